import Foundation
import TaiCore
import TaiSSA

/// `meta.k8s.io/v1 Table` answers, with the columns kubectl users expect per kind.
enum Tables {
    static func table(for type: ResourceType, objects: [Value], resourceVersion: String?) -> Value {
        let columns = self.columns(type)
        var rows: [Value] = []
        for object in objects {
            var metadata: ValueMap = [:]
            for key in ["name", "namespace", "labels", "annotations", "creationTimestamp", "resourceVersion", "uid"] {
                if let v = object[path: ["metadata", key]] { metadata[key] = v }
            }
            rows.append([
                "cells": .list(cells(type, object)),
                "object": ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": .map(metadata)],
            ])
        }
        var meta = ValueMap()
        if let resourceVersion { meta["resourceVersion"] = .string(resourceVersion) }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .map(meta),
            "columnDefinitions": .list(columns.map { name, kind, priority in
                ["name": .string(name), "type": .string(kind), "format": name == "Name" ? "name" : "", "description": "", "priority": .int(priority)]
            }),
            "rows": .list(rows),
        ]
    }

    private static func columns(_ type: ResourceType) -> [(String, String, Int)] {
        switch (type.group, type.kind) {
        case ("apps", "Deployment"): [("Name", "string", 0), ("Ready", "string", 0), ("Up-to-date", "integer", 0), ("Available", "integer", 0), ("Age", "string", 0)]
        case ("apps", "StatefulSet"): [("Name", "string", 0), ("Ready", "string", 0), ("Age", "string", 0)]
        case ("", "ConfigMap"): [("Name", "string", 0), ("Data", "integer", 0), ("Age", "string", 0)]
        case ("", "Secret"): [("Name", "string", 0), ("Type", "string", 0), ("Data", "integer", 0), ("Age", "string", 0)]
        case ("", "Namespace"): [("Name", "string", 0), ("Status", "string", 0), ("Age", "string", 0)]
        case ("", "Service"): [("Name", "string", 0), ("Type", "string", 0), ("Cluster-IP", "string", 0), ("External-IP", "string", 0), ("Port(s)", "string", 0), ("Age", "string", 0)]
        case ("", "ServiceAccount"): [("Name", "string", 0), ("Secrets", "integer", 0), ("Age", "string", 0)]
        case ("apiextensions.k8s.io", "CustomResourceDefinition"): [("Name", "string", 0), ("Created At", "date", 0)]
        default: [("Name", "string", 0), ("Age", "string", 0)]
        }
    }

    private static func cells(_ type: ResourceType, _ o: Value) -> [Value] {
        let name = o[path: ["metadata", "name"]] ?? ""
        let age = Value.string(self.age(o[path: ["metadata", "creationTimestamp"]]?.stringValue))
        func int(_ path: [String]) -> Value { .int(o[path: path]?.intValue ?? 0) }
        switch (type.group, type.kind) {
        case ("apps", "Deployment"):
            return [name, .string("\(o[path: ["status", "readyReplicas"]]?.intValue ?? 0)/\(o[path: ["spec", "replicas"]]?.intValue ?? 0)"), int(["status", "updatedReplicas"]), int(["status", "availableReplicas"]), age]
        case ("apps", "StatefulSet"):
            return [name, .string("\(o[path: ["status", "readyReplicas"]]?.intValue ?? 0)/\(o[path: ["spec", "replicas"]]?.intValue ?? 0)"), age]
        case ("", "ConfigMap"):
            return [name, .int((o["data"]?.mapValue?.count ?? 0) + (o["binaryData"]?.mapValue?.count ?? 0)), age]
        case ("", "Secret"):
            return [name, o["type"] ?? "Opaque", .int(o["data"]?.mapValue?.count ?? 0), age]
        case ("", "Namespace"):
            return [name, o[path: ["status", "phase"]] ?? "Active", age]
        case ("", "Service"):
            let ports = (o[path: ["spec", "ports"]]?.listValue ?? []).map { "\($0["port"]?.scalarText ?? "")/\($0["protocol"]?.stringValue ?? "TCP")" }
            return [name, o[path: ["spec", "type"]] ?? "ClusterIP", o[path: ["spec", "clusterIP"]] ?? "<none>", "<none>", .string(ports.isEmpty ? "<none>" : ports.joined(separator: ",")), age]
        case ("", "ServiceAccount"):
            return [name, .int(o["secrets"]?.listValue?.count ?? 0), age]
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            return [name, o[path: ["metadata", "creationTimestamp"]] ?? ""]
        default:
            return [name, age]
        }
    }

    /// kubectl's short age: `22s`, `5m`, `3h`, `2d`.
    static func age(_ timestamp: String?) -> String {
        guard let timestamp, let date = ISO8601DateFormatter().date(from: timestamp) else { return "<unknown>" }
        let seconds = max(0, Int(Date().timeIntervalSince(date)))
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 3600 * 3 { return "\(seconds / 60)m" }
        if seconds < 86400 * 2 { return "\(seconds / 3600)h" }
        return "\(seconds / 86400)d"
    }
}
