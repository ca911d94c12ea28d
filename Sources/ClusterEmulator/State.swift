import Foundation
import TaiCore
import TaiSSA
import TaiYAML

/// Loading and saving a cluster's objects (`tai-gitops cluster --state FILE`).
public enum ClusterStateError: Error, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case unknownKind(file: String, index: Int, apiVersion: String, kind: String)
    case missingName(file: String, index: Int)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): "\(file): \(reason)"
        case .unknownKind(let file, let index, let apiVersion, let kind):
            "\(file): document \(index + 1): kind \(kind) of \(apiVersion) is not served (apply its CustomResourceDefinition in the same file, before it)"
        case .missingName(let file, let index): "\(file): document \(index + 1): metadata.name is missing"
        }
    }
}

extension APIServer {
    /// The namespaces every cluster starts with.
    public func bootstrap() {
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            _ = handle(APIRequest(
                method: "POST", uri: "/api/v1/namespaces?fieldManager=kube-apiserver",
                headers: ["content-type": "application/json", "authorization": token.map { "Bearer \($0)" } ?? ""],
                body: Array(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\#(name)"}}"#.utf8)))
        }
    }

    /// Loads objects as they are (server metadata and managedFields kept), CRDs registering their kinds.
    public func load(yaml text: String, file: String) throws -> Int {
        let documents: [YAMLDocument]
        do { documents = try YAML.parseDocuments(text, file: file) } catch { throw ClusterStateError.unreadable(file: file, reason: "\(error)") }
        var count = 0
        for (index, document) in documents.enumerated() {
            let object = document.value
            if case .null = object { continue }
            let items = object["kind"]?.stringValue == "List" ? (object["items"]?.listValue ?? []) : [object]
            for item in items {
                let apiVersion = item["apiVersion"]?.stringValue ?? ""
                let kind = item["kind"]?.stringValue ?? ""
                guard let type = cluster.resourceType(apiVersion: apiVersion, kind: kind) else {
                    throw ClusterStateError.unknownKind(file: file, index: index, apiVersion: apiVersion, kind: kind)
                }
                guard item[path: ["metadata", "name"]]?.stringValue != nil else { throw ClusterStateError.missingName(file: file, index: index) }
                if type.kind == "CustomResourceDefinition" { cluster.registerCRD(item) }
                var stored = item
                // Objects read from storage are defaulted by the server's version (as kube-apiserver
                // does when it decodes what an older version wrote to etcd).
                Defaults.apply(&stored, allocateClusterIP: cluster.allocateClusterIP)
                if type.namespaced, stored[path: ["metadata", "namespace"]] == nil { stored.set(path: ["metadata", "namespace"], to: "default") }
                if stored[path: ["metadata", "uid"]] == nil { stored.set(path: ["metadata", "uid"], to: .string(UUID().uuidString.lowercased())) }
                if stored[path: ["metadata", "creationTimestamp"]] == nil { stored.set(path: ["metadata", "creationTimestamp"], to: .string(Self.now())) }
                cluster.store(type, stored, eventType: "ADDED")
                count += 1
            }
        }
        return count
    }

    /// Every object as YAML documents, CRDs and namespaces first.
    public func saveYAML() -> String {
        let objects = cluster.allObjects().sorted { a, b in
            func rank(_ v: Value) -> Int {
                switch v["kind"]?.stringValue {
                case "CustomResourceDefinition": 0
                case "Namespace": 1
                default: 2
                }
            }
            return rank(a) < rank(b)
        }
        return YAML.emitDocuments(objects)
    }
}
