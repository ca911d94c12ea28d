import TaiCore
import TaiSSA

/// Discovery, version and OpenAPI documents (what kubectl reads before it acts).
enum Discovery {
    static let version: Value = [
        "major": "1", "minor": "32", "gitVersion": "v1.32.0", "gitCommit": "tai-gitops-emulator", "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64",
    ]

    static let coreVersions: Value = [
        "kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"]],
    ]

    static func groups(_ types: [ResourceType]) -> Value {
        var groups: [Value] = []
        var seen: [String] = []
        for type in types where !type.group.isEmpty && !seen.contains(type.group) {
            seen.append(type.group)
            if let document = groupDocument(type.group, types) { groups.append(document) }
        }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .list(groups)]
    }

    static func groupDocument(_ group: String, _ types: [ResourceType]) -> Value? {
        var versions: [String] = []
        for type in types where type.group == group && !versions.contains(type.version) { versions.append(type.version) }
        guard let preferred = versions.first else { return nil }
        return [
            "kind": "APIGroup", "apiVersion": "v1", "name": .string(group),
            "versions": .list(versions.map { ["groupVersion": .string("\(group)/\($0)"), "version": .string($0)] }),
            "preferredVersion": ["groupVersion": .string("\(group)/\(preferred)"), "version": .string(preferred)],
        ]
    }

    static func resourceList(group: String, version: String, _ types: [ResourceType]) -> Value? {
        let matching = types.filter { $0.group == group && $0.version == version }
        guard let first = matching.first else { return nil }
        var resources: [Value] = []
        for type in matching {
            var entry: ValueMap = [
                "name": .string(type.plural), "singularName": .string(type.singular), "namespaced": .bool(type.namespaced),
                "kind": .string(type.kind), "verbs": .list(ResourceType.standardVerbs.map { .string($0) }),
            ]
            if !type.shortNames.isEmpty { entry["shortNames"] = .list(type.shortNames.map { .string($0) }) }
            if !type.categories.isEmpty { entry["categories"] = .list(type.categories.map { .string($0) }) }
            resources.append(.map(entry))
            for sub in type.subresources {
                var subEntry: ValueMap = [
                    "name": .string("\(type.plural)/\(sub)"), "singularName": "", "namespaced": .bool(type.namespaced),
                    "kind": .string(sub == "scale" ? "Scale" : type.kind), "verbs": ["get", "patch", "update"],
                ]
                if sub == "scale" { subEntry["group"] = "autoscaling"; subEntry["version"] = "v1" }
                resources.append(.map(subEntry))
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(first.apiVersion), "resources": .list(resources)]
    }

    /// `/openapi/v3` (an index of group-versions) and each group-version's document, with one
    /// PATCH operation per kind that accepts `fieldValidation` (what `kubectl apply` checks);
    /// `/openapi/v2` answers an empty protobuf document (client-side validation finds no schema).
    static func openAPI(segments: [String], query: [String: String], types: [ResourceType]) -> APIResponse {
        guard segments.first == "v3" else {
            if segments.first == "v2" { return .body(status: 200, contentType: "application/octet-stream", headers: [:], bytes: []) }
            return .error(.resourceNotFound)
        }
        var byPath: [String: [ResourceType]] = [:]
        for type in types {
            let path = type.group.isEmpty ? "api/\(type.version)" : "apis/\(type.group)/\(type.version)"
            byPath[path, default: []].append(type)
        }
        let hash = String(UInt(bitPattern: types.map(\.apiVersion).joined(separator: ",").hashValue) % 1_000_000_007)
        if segments.count == 1 {
            var paths = ValueMap()
            for key in byPath.keys.sorted() { paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(hash)")] }
            return .json(200, ["paths": .map(paths)])
        }
        let key = segments.dropFirst().joined(separator: "/")
        guard let gvTypes = byPath[key] else { return .error(.resourceNotFound) }
        var paths = ValueMap()
        for type in gvTypes {
            let scope = type.namespaced ? "/namespaces/{namespace}" : ""
            paths["/\(key)\(scope)/\(type.plural)/{name}"] = [
                "patch": [
                    "parameters": [["name": "fieldValidation", "in": "query", "schema": ["type": "string"]]],
                    "responses": ["200": ["description": "OK"]],
                    "x-kubernetes-group-version-kind": ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)],
                ]
            ]
        }
        return .json(200, [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.0"], "components": ["schemas": .emptyMap],
            "paths": .map(paths),
        ])
    }
}
