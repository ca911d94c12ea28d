import Foundation

/// Kubernetes resource quantities in canonical form, as kube-apiserver re-emits them
/// (`1.5Gi` → `1536Mi`, `0.5` → `500m`, `1000m` → `1`), rounded up to milli as resource lists are.
public enum Quantity {
    private static let decimalSuffixes: [(String, Int)] = [("n", -9), ("u", -6), ("m", -3), ("", 0), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18)]
    private static let binarySuffixes: [(String, Int)] = [("Ki", 10), ("Mi", 20), ("Gi", 30), ("Ti", 40), ("Pi", 50), ("Ei", 60)]

    public enum Format { case decimalSI, binarySI, decimalExponent }

    /// The canonical text of a quantity, or nil if the text is not a quantity.
    public static func canonical(_ text: String) -> String? {
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
}
