/// Number syntax as Go's `strconv` reads and writes it — the rules kustomize's YAML layers follow.
enum GoNumbers {
    /// `strconv.ParseInt(s, 0, 64)`: optional sign, then `0x`, `0o`, `0b`, a leading `0` (octal)
    /// or decimal digits.
    static func parseInt(_ s: String) -> Int? {
        var body = Substring(s)
        var negative = false
        if body.first == "+" || body.first == "-" {
            negative = body.first == "-"
            body = body.dropFirst()
        }
        guard let magnitude = parseUnsignedBody(body) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int.min : -Int(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int(magnitude)
    }

    /// `strconv.ParseUint(s, 0, 64)`: no sign allowed.
    static func parseUInt(_ s: String) -> UInt64? {
        parseUnsignedBody(Substring(s))
    }

    private static func parseUnsignedBody(_ body: Substring) -> UInt64? {
        guard !body.isEmpty else { return nil }
        var digits = body
        var radix: UInt64 = 10
        if body.count > 1, body.first == "0" {
            let second = body[body.index(after: body.startIndex)]
            switch second {
            case "x", "X": radix = 16; digits = body.dropFirst(2)
            case "o", "O": radix = 8; digits = body.dropFirst(2)
            case "b", "B": radix = 2; digits = body.dropFirst(2)
            default: radix = 8; digits = body.dropFirst(1)
            }
        }
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for c in digits.utf8 {
            let d: UInt64
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt64(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt64(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt64(c - UInt8(ascii: "A") + 10)
            default: return nil
            }
            guard d < radix else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: radix)
            let (a, o2) = m.addingReportingOverflow(d)
            guard !o1, !o2 else { return nil }
            value = a
        }
        return value
    }

    /// `strconv.ParseFloat(s, 64)` for the decimal forms (and `inf`/`nan` spellings).
    static func parseFloat(_ s: String) -> Double? {
        let lower = s.lowercased()
        switch lower {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan": return .nan
        default: break
        }
        guard isDecimalFloatSyntax(s) else { return nil }
        return Double(s)
    }

    private static func isDecimalFloatSyntax(_ s: String) -> Bool {
        var it = Substring(s)
        if it.first == "+" || it.first == "-" { it = it.dropFirst() }
        var mantissaDigits = 0
        while let c = it.first, c.isASCII, c.isNumber { it = it.dropFirst(); mantissaDigits += 1 }
        if it.first == "." {
            it = it.dropFirst()
            while let c = it.first, c.isASCII, c.isNumber { it = it.dropFirst(); mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { return false }
        if it.first == "e" || it.first == "E" {
            it = it.dropFirst()
            if it.first == "+" || it.first == "-" { it = it.dropFirst() }
            var exponentDigits = 0
            while let c = it.first, c.isASCII, c.isNumber { it = it.dropFirst(); exponentDigits += 1 }
            guard exponentDigits > 0 else { return false }
        }
        return it.isEmpty
    }

    /// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
    static func isYAMLStyleFloat(_ s: String) -> Bool {
        var it = Substring(s)
        if it.first == "+" || it.first == "-" { it = it.dropFirst() }
        func digits() -> Int {
            var n = 0
            while let c = it.first, c >= "0", c <= "9" { it = it.dropFirst(); n += 1 }
            return n
        }
        if it.first == "." {
            it = it.dropFirst()
            guard digits() > 0 else { return false }
        } else {
            guard digits() > 0 else { return false }
            if it.first == "." {
                it = it.dropFirst()
                _ = digits()
            }
        }
        if it.first == "e" || it.first == "E" {
            it = it.dropFirst()
            if it.first == "+" || it.first == "-" { it = it.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return it.isEmpty
    }

    /// go-yaml v2's base-60 float check: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
    static func isBase60Float(_ s: String) -> Bool {
        var it = Substring(s)
        if it.first == "+" || it.first == "-" { it = it.dropFirst() }
        guard let c = it.first, c >= "0", c <= "9" else { return false }
        it = it.dropFirst()
        while let c = it.first, (c >= "0" && c <= "9") || c == "_" { it = it.dropFirst() }
        var groups = 0
        while it.first == ":" {
            it = it.dropFirst()
            var n = 0
            var chars: [Character] = []
            while let c = it.first, c >= "0", c <= "9", n < 2 { chars.append(c); it = it.dropFirst(); n += 1 }
            if n == 0 { return false }
            if n == 2, let f = chars.first, f > "5" { return false }
            groups += 1
        }
        guard groups > 0 else { return false }
        if it.first == "." {
            it = it.dropFirst()
            while let c = it.first, (c >= "0" && c <= "9") || c == "_" { it = it.dropFirst() }
        }
        return it.isEmpty
    }

    /// `strconv.FormatFloat(d, 'g', -1, 64)`: the shortest digits that read back as `d`, in
    /// exponent form when the decimal exponent is below -4 or at least 6.
    static func formatG(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        let (digits, pointPosition) = shortestDigits(abs(d))
        let sign = d < 0 ? "-" : ""
        let exponent = pointPosition - 1
        // Go: %e when the exponent is below -4 or at least the precision, which is 6 for the
        // shortest form.
        if exponent < -4 || exponent >= 6 { return sign + exponential(digits, exponent) }
        if pointPosition <= 0 {
            return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
        }
        if pointPosition >= digits.count {
            return sign + digits + String(repeating: "0", count: pointPosition - digits.count)
        }
        let split = digits.index(digits.startIndex, offsetBy: pointPosition)
        return sign + digits[..<split] + "." + digits[split...]
    }

    private static func exponential(_ digits: String, _ exponent: Int) -> String {
        var out = String(digits.first!)
        if digits.count > 1 { out += "." + digits.dropFirst() }
        out += exponent < 0 ? "e-" : "e+"
        let e = abs(exponent)
        out += e < 10 ? "0\(e)" : "\(e)"
        return out
    }

    /// The shortest round-trip decimal digits of a positive finite double and the position of
    /// the decimal point relative to them (`1.5` → ("15", 1); `0.001` → ("1", -2)).
    static func shortestDigits(_ d: Double) -> (String, Int) {
        let text = d.description  // Swift prints the shortest round-trip digits
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits = ""
        var point = 0
        var seenPoint = false
        for c in mantissa {
            if c == "." {
                seenPoint = true
                continue
            }
            digits.append(c)
            if !seenPoint { point += 1 }
        }
        // Strip leading zeros (moving the point) and trailing zeros.
        while digits.first == "0", digits.count > 1 {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0", digits.count > 1 { digits.removeLast() }
        return (digits, point + exponent)
    }
}
