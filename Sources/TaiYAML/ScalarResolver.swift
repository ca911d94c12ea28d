import TaiCore

/// How plain (unquoted) scalars get their types, as kustomize's YAML reader (go-yaml v3) does it:
/// `true`/`false` (three spellings each) are booleans, `yes`/`on` stay strings, integers in
/// decimal, `0x`, `0o`, `0b` and legacy `0…` octal, YAML floats, `.inf`/`.nan`, and timestamps
/// (which become RFC 3339 strings, as kustomize prints them).
enum ScalarResolver {
    static func resolvePlain(_ s: String) -> Value {
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        default: break
        }
        guard let first = s.utf8.first else { return .string(s) }
        switch first {
        case UInt8(ascii: "."):
            if let d = GoNumbers.parseFloat(s) { return .double(d) }
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"):
            if let timestamp = Timestamp.rfc3339(fromYAML: s) { return .string(timestamp) }
            let plain = s.utf8.contains(UInt8(ascii: "_")) ? s.replacing("_", with: "") : s
            if let i = GoNumbers.parseInt(plain) { return .int(i) }
            if let u = GoNumbers.parseUInt(plain) { return .uint(UInt(u)) }
            // go-yaml keeps a float too large for 64 bits (`1e400`) as a string.
            if GoNumbers.isYAMLStyleFloat(plain), let d = Double(plain), d.isFinite { return .double(d) }
        default: break
        }
        return .string(s)
    }

    /// How go-yaml v2 (YAML 1.1) reads an unquoted scalar, as kustomize reads JSON 6902 patches
    /// written in YAML: `yes`/`no`/`on`/`off`/`y`/`n` are booleans; timestamps stay as written.
    static func resolvePlainYAML11(_ s: String) -> Value {
        switch s {
        case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON": return .bool(true)
        case "n", "N", "no", "No", "NO", "off", "Off", "OFF": return .bool(false)
        default: break
        }
        if Timestamp.rfc3339(fromYAML: s) != nil { return .string(s) }
        return resolvePlain(s)
    }

    /// Whether go-yaml v2 (the writer kustomize prints with) would read `s`, unquoted, as
    /// something other than a string — in which case it must be written quoted.
    static func needsQuotingForGoYAMLv2(_ s: String) -> Bool {
        switch s {
        case "", "~", "null", "Null", "NULL",
            "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
            "true", "True", "TRUE", "false", "False", "FALSE",
            "on", "On", "ON", "off", "Off", "OFF",
            ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
            "-.inf", "-.Inf", "-.INF":
            return true
        default: break
        }
        guard let first = s.utf8.first else { return true }
        switch first {
        case UInt8(ascii: "."):
            return GoNumbers.parseFloat(s) != nil
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"):
            if Timestamp.rfc3339(fromYAML: s) != nil { return true }
            let plain = s.utf8.contains(UInt8(ascii: "_")) ? s.replacing("_", with: "") : s
            if GoNumbers.parseInt(plain) != nil || GoNumbers.parseUInt(plain) != nil { return true }
            if GoNumbers.isYAMLStyleFloat(plain), GoNumbers.parseFloat(plain) != nil { return true }
            if plain.hasPrefix("0b") || plain.hasPrefix("-0b") {
                let digits = plain.drop(while: { $0 == "-" }).dropFirst(2)
                if !digits.isEmpty, digits.allSatisfy({ $0 == "0" || $0 == "1" }) { return true }
            }
            return GoNumbers.isBase60Float(s)
        default:
            return false
        }
    }
}

extension YAML {
    /// The value an unquoted scalar with this text reads as (kustomize's reader rules): a
    /// created field that gets only text, as kustomize's replacements do, takes this type.
    public static func resolvePlainScalar(_ text: String) -> Value {
        ScalarResolver.resolvePlain(text)
    }
}

extension YAML {
    /// A floating point number as `kustomize build` prints it: kustomize writes objects as JSON
    /// and reads them back, so an integral float becomes an integer when it fits one (`1.0` → `1`),
    /// anything else is printed by Go's `%g` (`1e+21`, `1.5e-07`).
    public static func formatNumber(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        if d == d.rounded(), abs(d) < 1e21 {
            if d >= -9.223372036854775808e18, d < 9.223372036854775808e18 { return String(Int64(d)) }
            if d >= 0, d < 1.8446744073709551616e19 { return String(UInt64(d)) }
        }
        return GoNumbers.formatG(d)
    }
}
