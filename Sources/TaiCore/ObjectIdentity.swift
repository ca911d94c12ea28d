/// The group, version and kind of a Kubernetes type.
public struct GroupVersionKind: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var kind: String

    public init(group: String, version: String, kind: String) {
        self.group = group
        self.version = version
        self.kind = kind
    }

    /// Splits an `apiVersion` such as `apps/v1` (group `apps`) or `v1` (the core group).
    public init(apiVersion: String, kind: String) {
        if let slash = apiVersion.firstIndex(of: "/") {
            group = String(apiVersion[..<slash])
            version = String(apiVersion[apiVersion.index(after: slash)...])
        } else {
            group = ""
            version = apiVersion
        }
        self.kind = kind
    }

    /// `group/version`, or just `version` for the core group.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    public var description: String { "\(apiVersion), Kind=\(kind)" }
}

/// Which object this is: group, version, kind, namespace and name.
///
/// Used everywhere an object must be named — in errors, diffs, inventories and apply plans.
public struct ObjectIdentity: Sendable, Hashable, CustomStringConvertible {
    public var gvk: GroupVersionKind
    public var namespace: String
    public var name: String

    public init(gvk: GroupVersionKind, namespace: String = "", name: String) {
        self.gvk = gvk
        self.namespace = namespace
        self.name = name
    }

    public var group: String { gvk.group }
    public var version: String { gvk.version }
    public var kind: String { gvk.kind }

    /// `Kind/name` or `Kind/namespace/name`, as a person would write it.
    public var description: String {
        namespace.isEmpty ? "\(gvk.kind)/\(name)" : "\(gvk.kind)/\(namespace)/\(name)"
    }
}

extension Value {
    /// `apiVersion` and `kind` of an object, when both are strings.
    public var gvk: GroupVersionKind? {
        guard let apiVersion = self["apiVersion"]?.stringValue, let kind = self["kind"]?.stringValue else {
            return nil
        }
        return GroupVersionKind(apiVersion: apiVersion, kind: kind)
    }

    /// `metadata.name` of an object.
    public var name: String? { self[path: ["metadata", "name"]]?.stringValue }

    /// `metadata.namespace` of an object; empty when it has none.
    public var namespace: String { self[path: ["metadata", "namespace"]]?.stringValue ?? "" }

    /// The identity of an object, when it has `apiVersion`, `kind` and `metadata.name`.
    public var identity: ObjectIdentity? {
        guard let gvk, let name else { return nil }
        return ObjectIdentity(gvk: gvk, namespace: namespace, name: name)
    }
}
