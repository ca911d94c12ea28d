import Crypto
import Foundation
import TaiCore

/// How tai-gitops marks what it applied for an environment, following kubectl's ApplySet design
/// (KEP-3659) so kubectl understands it too: a parent ConfigMap per environment carrying the
/// ApplySet id and the group-kinds it contains, and a `part-of` label on every member.
public struct Inventory: Sendable, Equatable {
    public static let partOfLabel = "applyset.kubernetes.io/part-of"
    public static let idLabel = "applyset.kubernetes.io/id"
    public static let toolingAnnotation = "applyset.kubernetes.io/tooling"
    public static let groupKindsAnnotation = "applyset.kubernetes.io/contains-group-kinds"
    /// Namespaces members live in (tai-gitops' own annotation, so prune lists only those).
    public static let namespacesAnnotation = "applyset.kubernetes.io/additional-namespaces"

    /// The environment this inventory belongs to.
    public let environment: String
    /// Where the parent ConfigMap lives.
    public let namespace: String

    public init(environment: String, namespace: String) {
        self.environment = environment
        self.namespace = namespace
        let digest = SHA256.hash(data: Data("tai-gitops-\(environment).\(namespace).ConfigMap.".utf8))
        let encoded = Data(digest).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        id = "applyset-\(encoded)-v1"
    }

    /// The parent's name: `tai-gitops-ENV`.
    public var parentName: String { "tai-gitops-\(environment)" }

    /// kubectl's ApplySet id: `applyset-` + base64url(sha256(name.namespace.kind.group)) + `-v1`.
    public let id: String

    /// A desired object with the membership label.
    /// Labels an object as a member, in place (no copy of an object held nowhere else).
    public func label(_ object: inout Value) {
        guard object[path: ["metadata", "labels", Self.partOfLabel]]?.stringValue != id else { return }
        object.set(path: ["metadata", "labels", Self.partOfLabel], to: .string(id))
    }

    public func labelled(_ object: Value) -> Value {
        if object[path: ["metadata", "labels", Self.partOfLabel]]?.stringValue == id { return object }
        var object = object
        object.set(path: ["metadata", "labels", Self.partOfLabel], to: .string(id))
        return object
    }

    /// The parent object for a set of members.
    public func parent(groupKinds: [String], namespaces: [String]) -> Value {
        [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": [
                "name": .string(parentName), "namespace": .string(namespace),
                "labels": [Self.idLabel: .string(id)],
                "annotations": [
                    Self.toolingAnnotation: "tai-gitops/v0.1.0",
                    Self.groupKindsAnnotation: .string(groupKinds.sorted().joined(separator: ",")),
                    Self.namespacesAnnotation: .string(namespaces.filter { $0 != namespace }.sorted().joined(separator: ",")),
                ],
            ],
        ]
    }

    /// `Deployment.apps`, `ConfigMap` (kubectl's group-kind spelling).
    public static func groupKind(apiVersion: String, kind: String) -> String {
        let group = GroupVersionKind(apiVersion: apiVersion, kind: "").group
        return group.isEmpty ? kind : "\(kind).\(group)"
    }
}

