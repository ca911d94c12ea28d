extension Duration {
    /// The duration in seconds, as a floating point number (for reports and metrics).
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

extension Duration {
    /// A Go-style duration as settings files write them: `300ms`, `30s`, `5m`, `1h30m`, `1.5m`;
    /// nil for anything else (a bare number, other units, spaces).
    public init?(goStyle text: String) {
        var total = 0.0
        var number = ""
        var unit = ""
        func flush() -> Bool {
            guard let n = Double(number) else { return false }
            let scale: Double
            switch unit {
            case "ms": scale = 0.001
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            default: return false
            }
            total += n * scale
            number = ""
            unit = ""
            return true
        }
        guard !text.isEmpty else { return nil }
        for c in text {
            if c.isNumber || c == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(c)
            } else {
                unit.append(c)
            }
        }
        guard flush() else { return nil }
        self = .milliseconds(Int64((total * 1000).rounded()))
    }
}

/// A configuration problem: the file and the field it comes from, and what is wrong.
public struct SettingsError: Error, CustomStringConvertible, Sendable {
    public var file: String?
    public var field: String?
    public var message: String

    public init(file: String? = nil, field: String? = nil, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        var out = ""
        if let file { out += file + ": " }
        if let field { out += "field '\(field)': " }
        return out + message
    }
}
