import Foundation

/// Kubernetes resource quantities in canonical form, as kube-apiserver re-emits them
/// (`1.5Gi` → `1536Mi`, `0.5` → `500m`, `1000m` → `1`), rounded up to milli as resource lists are.
public enum Quantity {
    private static let decimalSuffixes: [(String, Int)] = [("n", -9), ("u", -6), ("m", -3), ("", 0), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18)]
    private static let binarySuffixes: [(String, Int)] = [("Ki", 10), ("Mi", 20), ("Gi", 30), ("Ti", 40), ("Pi", 50), ("Ei", 60)]

    public enum Format { case decimalSI, binarySI, decimalExponent }

    /// The canonical text of a quantity, or nil if the text is not a quantity.
    public static func canonical(_ text: String) -> String? {
        canonicalWithIntegers(text) ?? canonicalExact(text)
    }

    /// ``canonical(_:)`` computed with Decimal, for any size.
    static func canonicalExact(_ text: String) -> String? {
        guard let (value, format) = parse(text) else { return nil }
        // Round up to milli units.
        var v = value
        let scaled = v * 1000
        var roundedScaled = Decimal()
        var s = scaled
        NSDecimalRound(&roundedScaled, &s, 0, value.isSignMinus ? .down : .up)
        v = roundedScaled / 1000
        if v == 0 { return "0" }
        switch format {
        case .binarySI:
            if isIntegral(v), abs(v) >= 1024 {
                var k = 0
                var m = v
                while k < 6, isIntegral(m / 1024), abs(m / 1024) >= 1 { m /= 1024; k += 1 }
                let suffix = k == 0 ? "" : binarySuffixes[k - 1].0
                return "\(m)\(suffix)"
            }
            if isIntegral(v) { return "\(v)" }
            return decimal(v)
        case .decimalSI:
            return decimal(v)
        case .decimalExponent:
            var e = 0
            var m = v
            while isIntegral(m / 1000), m != 0, e < 18 { m /= 1000; e += 3 }
            while !isIntegral(m), e > -9 { m *= 1000; e -= 3 }
            return e == 0 ? "\(m)" : "\(m)e\(e)"
        }
    }

    private static func decimal(_ v: Decimal) -> String {
        var best: (Decimal, String)?
        for (suffix, exponent) in decimalSuffixes {
            let m = v / pow10(exponent)
            if isIntegral(m) { best = (m, suffix) }
        }
        guard let (m, suffix) = best else { return "\(v)" }
        return "\(m)\(suffix)"
    }

    private static func pow10(_ e: Int) -> Decimal {
        e >= 0 ? pow(Decimal(10), e) : 1 / pow(Decimal(10), -e)
    }

    private static func isIntegral(_ d: Decimal) -> Bool {
        var x = d
        var r = Decimal()
        NSDecimalRound(&r, &x, 0, .plain)
        return r == d
    }

    /// Whether the text is a quantity (the integer path first; Decimal only when it cannot tell).
    public static func isValid(_ text: String) -> Bool {
        canonicalWithIntegers(text) != nil || parse(text) != nil
    }

    public static func parse(_ text: String) -> (Decimal, Format)? {
        let chars = Array(text.trimmingCharacters(in: .whitespaces))
        var i = 0
        if i < chars.count, chars[i] == "+" || chars[i] == "-" { i += 1 }
        let numberStart = 0
        while i < chars.count, chars[i].isNumber || chars[i] == "." { i += 1 }
        let numberText = String(chars[numberStart..<i])
        guard !numberText.isEmpty, numberText != "+", numberText != "-", let number = Decimal(string: numberText) else { return nil }
        let suffix = String(chars[i...])
        if suffix.isEmpty { return (number, .decimalSI) }
        if let (_, power) = binarySuffixes.first(where: { $0.0 == suffix }) {
            return (number * pow(Decimal(2), power), .binarySI)
        }
        if let (_, exponent) = decimalSuffixes.first(where: { $0.0 == suffix }) {
            return (number * pow10(exponent), .decimalSI)
        }
        if suffix.first == "e" || suffix.first == "E", let e = Int(suffix.dropFirst()) {
            return (number * pow10(e), .decimalExponent)
        }
        return nil
    }

    /// The same as ``canonical(_:)`` in integer arithmetic, for the decimal and binary forms
    /// whose value fits in 64 bits (nearly all); nil to take the exact Decimal path.
    static func canonicalWithIntegers(_ text: String) -> String? {
        let utf8 = Array(text.utf8)
        var i = 0
        var mantissa: Int64 = 0
        var fractionDigits = 0
        var seenDot = false
        var digits = 0
        while i < utf8.count {
            let c = utf8[i]
            if c >= 48 && c <= 57 {
                let (m, o1) = mantissa.multipliedReportingOverflow(by: 10)
                let (n, o2) = m.addingReportingOverflow(Int64(c - 48))
                if o1 || o2 { return nil }
                mantissa = n
                digits += 1
                if seenDot { fractionDigits += 1 }
            } else if c == UInt8(ascii: "."), !seenDot {
                seenDot = true
            } else {
                break
            }
            i += 1
        }
        guard digits > 0 else { return nil }
        let suffix = String(decoding: utf8[i...], as: UTF8.self)
        func pow10(_ n: Int) -> Int64? {
            var r: Int64 = 1
            for _ in 0..<n {
                let (x, o) = r.multipliedReportingOverflow(by: 10)
                if o { return nil }
                r = x
            }
            return r
        }
        if let (_, power) = binarySuffixes.first(where: { $0.0 == suffix }) {
            guard let divisor = pow10(fractionDigits), power < 62 else { return nil }
            let (bytesTimes, o) = mantissa.multipliedReportingOverflow(by: Int64(1) << power)
            guard !o, bytesTimes % divisor == 0 else { return nil }
            var bytes = bytesTimes / divisor
            if bytes == 0 { return "0" }
            guard bytes >= 1024 else { return "\(bytes)" }
            var k = 0
            while k < 6, bytes % 1024 == 0, bytes / 1024 >= 1 { bytes /= 1024; k += 1 }
            return "\(bytes)\(k == 0 ? "" : binarySuffixes[k - 1].0)"
        }
        guard let (_, exponent) = decimalSuffixes.first(where: { $0.0 == suffix }) else { return nil }
        // The value in milli units, rounded up.
        let shift = exponent + 3 - fractionDigits
        var milli: Int64
        if shift >= 0 {
            guard let factor = pow10(shift) else { return nil }
            let (x, o) = mantissa.multipliedReportingOverflow(by: factor)
            if o { return nil }
            milli = x
        } else {
            guard let divisor = pow10(-shift) else { return nil }
            milli = mantissa / divisor + (mantissa % divisor == 0 ? 0 : 1)
        }
        if milli == 0 { return "0" }
        var best = (milli, "m")
        var scale: Int64 = 1000
        for (suffix, exp) in decimalSuffixes where exp >= 0 {
            _ = exp
            if milli % scale == 0 { best = (milli / scale, suffix) } else { break }
            let (next, o) = scale.multipliedReportingOverflow(by: 1000)
            if o { break }
            scale = next
        }
        return "\(best.0)\(best.1)"
    }
}
