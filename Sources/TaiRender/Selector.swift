import Foundation
import TaiCore

/// A patch `target`: group, version, kind, name and namespace as anchored regular expressions,
/// plus label and annotation selectors — the way kustomize selects what a patch applies to.
struct Selector: Sendable {
    var group: String?
    var version: String?
    var kind: String?
    var name: String?
    var namespace: String?
    var labelSelector: String?
    var annotationSelector: String?

    struct Compiled {
        let group, version, kind, name, namespace: NSRegularExpression?
        let labels: [Requirement]
        let annotations: [Requirement]
    }

    func compile(file: String, field: String) throws(RenderError) -> Compiled {
        func regex(_ pattern: String?, _ part: String) throws(RenderError) -> NSRegularExpression? {
            guard let pattern, !pattern.isEmpty else { return nil }
            do {
                return try NSRegularExpression(pattern: "^(?:" + pattern + ")$")
            } catch {
                throw RenderError(path: file, field: "\(field).\(part)", message: "'\(pattern)' is not a valid regular expression")
            }
        }
        return Compiled(
            group: try regex(group, "group"), version: try regex(version, "version"), kind: try regex(kind, "kind"),
            name: try regex(name, "name"), namespace: try regex(namespace, "namespace"),
            labels: try Requirement.parse(labelSelector ?? "", file: file, field: "\(field).labelSelector"),
            annotations: try Requirement.parse(annotationSelector ?? "", file: file, field: "\(field).annotationSelector"))
    }
}

extension Selector.Compiled {
    private static func matches(_ regex: NSRegularExpression?, _ text: String) -> Bool {
        guard let regex else { return true }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    func matchesText(_ regex: NSRegularExpression?, _ text: String) -> Bool { Self.matches(regex, text) }

    func labelsAndAnnotationsMatch(_ r: Resource) -> Bool {
        let labels = r.object[path: ["metadata", "labels"]]?.mapValue ?? [:]
        let annotations = r.object[path: ["metadata", "annotations"]]?.mapValue ?? [:]
        return labels.allSatisfy(labelsMatch: self.labels) && annotations.allSatisfy(labelsMatch: self.annotations)
    }

    /// kustomize's rule: the original or the current namespace and name may match.
    func selects(_ r: Resource) -> Bool {
        let originalNamespace = r.originalNamespace
        guard Self.matches(namespace, originalNamespace) || Self.matches(namespace, r.effectiveNamespace) else { return false }
        guard Self.matches(name, r.originalName) || Self.matches(name, r.name) else { return false }
        guard Self.matches(group, r.gvk.group), Self.matches(version, r.gvk.version), Self.matches(kind, r.kind) else {
            return false
        }
        let labels = r.object[path: ["metadata", "labels"]]?.mapValue ?? [:]
        let annotations = r.object[path: ["metadata", "annotations"]]?.mapValue ?? [:]
        return labels.allSatisfy(labelsMatch: self.labels) && annotations.allSatisfy(labelsMatch: self.annotations)
    }
}

extension ValueMap {
    fileprivate func allSatisfy(labelsMatch requirements: [Requirement]) -> Bool {
        requirements.allSatisfy { $0.matches(self) }
    }
}

/// One requirement of a Kubernetes label selector: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
/// `k notin (a,b)`, `k`, `!k`.
struct Requirement: Sendable {
    enum Operator: Sendable { case equals, notEquals, `in`, notIn, exists, doesNotExist }
    var key: String
    var op: Operator
    var values: [String]

    func matches(_ labels: ValueMap) -> Bool {
        let value = labels[key]?.stringValue
        switch op {
        case .equals, .in: return value.map { values.contains($0) } ?? false
        case .notEquals, .notIn: return value.map { !values.contains($0) } ?? true
        case .exists: return value != nil
        case .doesNotExist: return value == nil
        }
    }

    static func parse(_ text: String, file: String, field: String) throws(RenderError) -> [Requirement] {
        var requirements: [Requirement] = []
        var rest = Substring(text)
        func fail() -> RenderError { RenderError(path: file, field: field, message: "invalid selector '\(text)'") }
        func skipSpaces() { rest = rest.drop { $0 == " " } }
        func word() -> String {
            let w = rest.prefix { !" ,=!()".contains($0) }
            rest = rest.dropFirst(w.count)
            return String(w)
        }
        skipSpaces()
        while !rest.isEmpty {
            if rest.first == "!" {
                rest = rest.dropFirst()
                skipSpaces()
                let key = word()
                guard !key.isEmpty else { throw fail() }
                requirements.append(Requirement(key: key, op: .doesNotExist, values: []))
            } else {
                let key = word()
                guard !key.isEmpty else { throw fail() }
                skipSpaces()
                if rest.hasPrefix("==") || rest.hasPrefix("!=") || rest.hasPrefix("=") {
                    let op: Operator = rest.hasPrefix("!=") ? .notEquals : .equals
                    rest = rest.dropFirst(rest.hasPrefix("=") && !rest.hasPrefix("==") ? 1 : 2)
                    skipSpaces()
                    requirements.append(Requirement(key: key, op: op, values: [word()]))
                } else if rest.hasPrefix("in ") || rest.hasPrefix("in(") || rest.hasPrefix("notin ") || rest.hasPrefix("notin(") {
                    let op: Operator = rest.hasPrefix("in") ? .in : .notIn
                    rest = rest.dropFirst(op == .in ? 2 : 5)
                    skipSpaces()
                    guard rest.first == "(" else { throw fail() }
                    rest = rest.dropFirst()
                    guard let close = rest.firstIndex(of: ")") else { throw fail() }
                    let values = rest[..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    rest = rest[rest.index(after: close)...]
                    requirements.append(Requirement(key: key, op: op, values: values))
                } else {
                    requirements.append(Requirement(key: key, op: .exists, values: []))
                }
            }
            skipSpaces()
            if rest.first == "," {
                rest = rest.dropFirst()
                skipSpaces()
            } else if !rest.isEmpty {
                throw fail()
            }
        }
        return requirements
    }
}
