/// Line diffs in the unified format (`diff -u`), from a longest common subsequence.
public enum UnifiedDiff {
    enum Line: Equatable {
        case same(String)
        case removed(String)
        case added(String)
    }

    static func lines(_ a: [String], _ b: [String]) -> [Line] {
        // Trim the common prefix and suffix, then an LCS table over what is left.
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
        let x = Array(a[prefix..<(a.count - suffix)])
        let y = Array(b[prefix..<(b.count - suffix)])
        var table = Array(repeating: Array(repeating: 0, count: y.count + 1), count: x.count + 1)
        if !x.isEmpty && !y.isEmpty {
            for i in stride(from: x.count - 1, through: 0, by: -1) {
                for j in stride(from: y.count - 1, through: 0, by: -1) {
                    table[i][j] = x[i] == y[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
                }
            }
        }
        var out: [Line] = a[0..<prefix].map { .same($0) }
        var i = 0
        var j = 0
        while i < x.count || j < y.count {
            if i < x.count, j < y.count, x[i] == y[j] {
                out.append(.same(x[i])); i += 1; j += 1
            } else if i < x.count, j == y.count || table[i + 1][j] >= table[i][j + 1] {
                out.append(.removed(x[i])); i += 1
            } else {
                out.append(.added(y[j])); j += 1
            }
        }
        out += a[(a.count - suffix)...].map { .same($0) }
        return out
    }

    /// `--- from` / `+++ to` and hunks with `context` lines around each change; empty when equal.
    public static func render(_ a: String, _ b: String, from: String, to: String, context: Int = 3, color: Bool = false) -> String {
        let old = a.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLastEmpty()
        let new = b.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLastEmpty()
        let diff = lines(old, new)
        guard diff.contains(where: { if case .same = $0 { false } else { true } }) else { return "" }
        let red = color ? "\u{1B}[31m" : "", green = color ? "\u{1B}[32m" : "", cyan = color ? "\u{1B}[36m" : "", bold = color ? "\u{1B}[1m" : "", reset = color ? "\u{1B}[0m" : ""
        var out = "\(bold)--- \(from)\(reset)\n\(bold)+++ \(to)\(reset)\n"
        let changed = diff.indices.filter { if case .same = diff[$0] { false } else { true } }
        var hunks: [ClosedRange<Int>] = []
        for index in changed {
            let range = max(0, index - context)...min(diff.count - 1, index + context)
            if let last = hunks.last, range.lowerBound <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                hunks.append(range)
            }
        }
        for hunk in hunks {
            var oldStart = 1, newStart = 1
            for line in diff[..<hunk.lowerBound] {
                switch line {
                case .same: oldStart += 1; newStart += 1
                case .removed: oldStart += 1
                case .added: newStart += 1
                }
            }
            let oldCount = diff[hunk].filter { if case .added = $0 { false } else { true } }.count
            let newCount = diff[hunk].filter { if case .removed = $0 { false } else { true } }.count
            out += "\(cyan)@@ -\(oldCount == 0 ? oldStart - 1 : oldStart),\(oldCount) +\(newCount == 0 ? newStart - 1 : newStart),\(newCount) @@\(reset)\n"
            for line in diff[hunk] {
                switch line {
                case .same(let s): out += " \(s)\n"
                case .removed(let s): out += "\(red)-\(s)\(reset)\n"
                case .added(let s): out += "\(green)+\(s)\(reset)\n"
                }
            }
        }
        return out
    }
}

extension Array where Element == String {
    func dropLastEmpty() -> [String] {
        if last == "" { return Array(dropLast()) }
        return self
    }
}
