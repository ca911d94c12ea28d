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
            if let u = GoNumbers.parseUInt(plain) { return .double(Double(u)) }
            if GoNumbers.isYAMLStyleFloat(plain), let d = Double(plain) { return .double(d) }
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
