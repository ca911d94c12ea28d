import Foundation
import Synchronization
import TaiCore
import TaiSSA
import TaiYAML

/// kube-apiserver v1.32's REST API over a ``Cluster``, independent of the transport.
public struct APIServer: Sendable {
    public let cluster: Cluster
    /// Bearer token required on every request, when set.
    public var token: String?

    /// How the simulated controllers behave (rollout delay, images that never become ready).
    public var controllers: ControllerSettings
    /// When set, the only namespaces requests may touch (as a namespace-scoped service account):
    /// anything else, cluster-scoped kinds included, is 403 Forbidden.
    public var allowedNamespaces: Set<String>?

    public init(cluster: Cluster, token: String? = nil, controllers: ControllerSettings = ControllerSettings()) {
        self.cluster = cluster
        self.token = token
        self.controllers = controllers
    }

    /// Where a request points.
    struct Target {
        var type: ResourceType
        var namespace: String?
        var name: String?
        var subresource: String?
    }

    public func handle(_ request: APIRequest) -> APIResponse {
        let (verb, resource, response) = route(request)
        cluster.count(verb: verb, resource: resource, code: response.status)
        if (200..<300).contains(response.status), ["create", "update", "patch", "apply", "delete"].contains(verb), request.query["dryRun"] == nil {
            cluster.countWrite(by: request.fieldManager)
        }
        return response
    }

    private func route(_ request: APIRequest) -> (String, String, APIResponse) {
        if let token, !request.authenticatedByCertificate, request.headers["authorization"] != "Bearer \(token)" {
            return ("", "", .error(APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")))
        }
        let segments = request.path.split(separator: "/").map(String.init)
        switch segments.first {
        case "version": return ("get", "version", .json(200, Discovery.version))
        case "healthz", "readyz", "livez": return ("get", segments[0], .body(status: 200, contentType: "text/plain", headers: [:], bytes: Array("ok".utf8)))
        case "metrics": return ("get", "metrics", .body(status: 200, contentType: "text/plain; version=0.0.4", headers: [:], bytes: Array(cluster.metricsText().utf8)))
        case "openapi": return ("get", "openapi", Discovery.openAPI(segments: Array(segments.dropFirst()), query: request.query, types: cluster.resourceTypes))
        case "api", "apis": break
        default: return ("", "", .error(.resourceNotFound))
        }
        // Discovery documents.
        let isCore = segments[0] == "api"
        if isCore && segments.count == 1 { return ("get", "discovery", .json(200, Discovery.coreVersions)) }
        if !isCore && segments.count == 1 { return ("get", "discovery", .json(200, Discovery.groups(cluster.resourceTypes))) }
        let group = isCore ? "" : segments[1]
        let rest = Array(segments.dropFirst(isCore ? 1 : 2))
        guard let version = rest.first else {
            return ("get", "discovery", Discovery.groupDocument(group, cluster.resourceTypes).map { .json(200, $0) } ?? .error(.resourceNotFound))
        }
        if rest.count == 1 {
            return ("get", "discovery", Discovery.resourceList(group: group, version: version, cluster.resourceTypes).map { .json(200, $0) } ?? .error(.resourceNotFound))
        }
        // Resource paths: [namespaces/NS/]PLURAL[/NAME[/SUB]]
        var parts = Array(rest.dropFirst())
        var namespace: String?
        if parts.count >= 3, parts[0] == "namespaces", let type = cluster.resourceType(group: group, version: version, plural: parts[2]), type.namespaced {
            namespace = parts[1]
            parts = Array(parts.dropFirst(2))
        }
        guard let type = cluster.resourceType(group: group, version: version, plural: parts[0]) else {
            return ("", parts[0], .error(.resourceNotFound))
        }
        let target = Target(type: type, namespace: namespace, name: parts.count > 1 ? parts[1] : nil, subresource: parts.count > 2 ? parts[2] : nil)
        if let sub = target.subresource, !type.subresources.contains(sub) {
            return ("", type.plural, .error(.resourceNotFound))
        }
        let verb = Self.verb(request, target)
        if let allowed = allowedNamespaces, !(target.namespace.map(allowed.contains) ?? false) {
            let scope = target.namespace.map { " in the namespace \"\($0)\"" } ?? " at the cluster scope"
            return (verb, type.plural, .error(APIError(
                code: 403, reason: "Forbidden",
                message: "\(type.plural)\(type.group.isEmpty ? "" : "." + type.group) is forbidden: User \"system:serviceaccount:tai:tai-gitops\" cannot \(verb) resource \"\(type.plural)\" in API group \"\(type.group)\"\(scope)",
                details: ["kind": .string(type.plural)])))
        }
        do {
            return (verb, type.plural, try perform(verb, request, target))
        } catch {
            return (verb, type.plural, .error(error))
        }
    }

    static func verb(_ request: APIRequest, _ target: Target) -> String {
        switch request.method {
        case "GET": target.name == nil ? (request.query["watch"] == "true" || request.query["watch"] == "1" ? "watch" : "list") : "get"
        case "POST": "create"
        case "PUT": "update"
        case "PATCH": request.contentType == "application/apply-patch+yaml" ? "apply" : "patch"
        case "DELETE": target.name == nil ? "deletecollection" : "delete"
        default: request.method.lowercased()
        }
    }

    private func perform(_ verb: String, _ request: APIRequest, _ target: Target) throws(APIError) -> APIResponse {
        if let dryRun = request.query["dryRun"], dryRun != "All" {
            throw APIError(code: 400, reason: "BadRequest", message: "Unsupported value: \"\(dryRun)\": supported values: \"All\"")
        }
        switch verb {
        case "list": return try list(request, target)
        case "watch": return try watch(request, target)
        case "get": return try get(request, target)
        case "create": return try create(request, target)
        case "update": return try update(request, target)
        case "apply", "patch": return try patch(request, target)
        case "delete": return try delete(request, target)
        default: throw APIError.methodNotAllowed(request.method)
        }
    }

    // MARK: Reads

    private func get(_ request: APIRequest, _ target: Target) throws(APIError) -> APIResponse {
        guard let name = target.name else { throw .resourceNotFound }
        try checkNamespace(target)
        guard let object = cluster.get(target.type, namespace: target.namespace, name: name) else { throw .notFound(target.type, name) }
        if target.subresource == "scale" { return .json(200, Self.scale(of: object, target.type)) }
        if request.wantsTable {
            return .json(200, Tables.table(for: target.type, objects: [object], resourceVersion: nil), contentType: "application/json;as=Table;v=v1;g=meta.k8s.io")
        }
        return .json(200, served(object, target.type))
    }

    /// The object as served at the requested version.
    func served(_ object: Value, _ type: ResourceType) -> Value {
        var object = object
        object["apiVersion"] = .string(type.apiVersion)
        return object
    }

    private func list(_ request: APIRequest, _ target: Target) throws(APIError) -> APIResponse {
        let (all, rv) = cluster.list(target.type, namespace: target.namespace)
        let selector = try Selectors(request.query)
        var items = all.filter(selector.matches)
        var metadata: ValueMap = ["resourceVersion": .string(String(rv))]
        if let limitText = request.query["limit"], let limit = Int(limitText), limit > 0 {
            var start = 0
            if let token = request.query["continue"], let offset = Int(token) { start = offset }
            let end = min(start + limit, items.count)
            if end < items.count { metadata["continue"] = .string(String(end)); metadata["remainingItemCount"] = .int(items.count - end) }
            items = start < items.count ? Array(items[start..<end]) : []
        } else if let token = request.query["continue"], let offset = Int(token) {
            items = offset < items.count ? Array(items[offset...]) : []
        }
        if request.wantsTable {
            return .json(200, Tables.table(for: target.type, objects: items, resourceVersion: String(rv)), contentType: "application/json;as=Table;v=v1;g=meta.k8s.io")
        }
        let list: Value = .map([
            "kind": .string(target.type.kind + "List"), "apiVersion": .string(target.type.apiVersion), "metadata": .map(metadata),
            "items": .list(items.map { served($0, target.type) }),
        ])
        return .json(200, list)
    }

    private func watch(_ request: APIRequest, _ target: Target) throws(APIError) -> APIResponse {
        let selector = try Selectors(request.query)
        let rvText = request.query["resourceVersion"] ?? ""
        let since: Int? = (rvText.isEmpty || rvText == "0") ? nil : Int(rvText)
        let table = request.wantsTable
        let type = target.type
        let cluster = self.cluster
        let namespace = target.namespace
        let bookmarks = request.query["allowWatchBookmarks"] == "true"
        let server = self
        let watch = WatchRequest(
            contentType: table ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json",
            start: { send in
                let id = cluster.watch(type, namespace: namespace, since: since, matches: { selector.matches($0) }) { event in
                    let object = table ? Tables.table(for: type, objects: [event.object], resourceVersion: nil) : server.served(event.object, type)
                    send(JSON.serializeBytes(.map(["type": .string(event.type), "object": object])) + [10])
                }
                if bookmarks {
                    let rv = cluster.state.withLockedValue { $0.resourceVersion }
                    let bookmark: Value = ["type": "BOOKMARK", "object": ["kind": .string(type.kind), "apiVersion": .string(type.apiVersion), "metadata": ["resourceVersion": .string(String(rv))]]]
                    send(JSON.serializeBytes(bookmark) + [10])
                }
                return id
            },
            stop: { cluster.cancelWatch($0) })
        return .watch(watch)
    }

    // MARK: Writes

    private func decodeBody(_ request: APIRequest) throws(APIError) -> Value {
        if request.contentType == "application/vnd.kubernetes.protobuf" {
            do { return try Protobuf.decodeObject(request.body) } catch { throw .badRequest("error decoding protobuf body: \(error)") }
        }
        do {
            if request.contentType.hasSuffix("yaml") {
                // JSON is YAML; most clients send it, and it parses much faster as JSON.
                if request.body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "{"),
                    let value = try? JSON.parse(request.body, rejectDuplicateKeys: true)
                {
                    return value
                }
                return try YAML.parse(String(decoding: request.body, as: UTF8.self), file: "request body")
            }
            return try JSON.parse(request.body)
        } catch {
            throw .badRequest("error decoding request body: \(error)")
        }
    }

    private func checkNamespace(_ target: Target) throws(APIError) {
        guard target.type.namespaced, let ns = target.namespace else { return }
        guard let nsType = cluster.resourceType(group: "", version: "v1", plural: "namespaces") else { return }
        if cluster.get(nsType, namespace: nil, name: ns) == nil { throw .notFound(nsType, ns) }
    }

    private func create(_ request: APIRequest, _ target: Target) throws(APIError) -> APIResponse {
        guard target.name == nil else { throw .methodNotAllowed("POST") }
        var object = try decodeBody(request)
        guard case .map = object else { throw .badRequest("the request body is not an object") }
        if object[path: ["metadata", "name"]] == nil, let prefix = object[path: ["metadata", "generateName"]]?.stringValue {
            object.set(path: ["metadata", "name"], to: .string(prefix + String(UUID().uuidString.lowercased().prefix(5))))
        }
        guard let name = object[path: ["metadata", "name"]]?.stringValue, !name.isEmpty else {
            throw .invalid(target.type, "", [("FieldValueRequired", "metadata.name", "Required value: name or generateName is required")])
        }
        try checkKind(object, target)
        try checkDecode(object, request, target)
        if target.type.namespaced {
            if let ns = object[path: ["metadata", "namespace"]]?.stringValue, let want = target.namespace, ns != want {
                throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            object.set(path: ["metadata", "namespace"], to: .string(target.namespace ?? "default"))
        }
        try checkNamespace(target)
        if cluster.get(target.type, namespace: target.namespace, name: name) != nil { throw .alreadyExists(target.type, name) }
        let manager = request.fieldManager
        var created = try admit(prepareNew(object, target.type), target.type)
        let fields = FieldSets.changed(from: nil, to: ServerSideApply.trackable(created), type: typeRef(created))
        created = setManagedFields(created, entries: [ManagedFieldsEntry(manager: manager, operation: "Update", apiVersion: target.type.apiVersion, time: Self.now(), subresource: nil, fields: fields)])
        if request.isDryRun {
            created.set(path: ["metadata", "resourceVersion"], to: "")
            return .json(201, served(created, target.type))
        }
        let stored = commit(target.type, created, eventType: "ADDED")
        return .json(201, served(stored, target.type))
    }

    private func update(_ request: APIRequest, _ target: Target) throws(APIError) -> APIResponse {
        guard let name = target.name else { throw .methodNotAllowed("PUT") }
        try checkNamespace(target)
        var body = try decodeBody(request)
        guard let live = cluster.get(target.type, namespace: target.namespace, name: name) else { throw .notFound(target.type, name) }
        if let rv = body[path: ["metadata", "resourceVersion"]]?.stringValue, !rv.isEmpty, rv != live[path: ["metadata", "resourceVersion"]]?.stringValue {
            throw .conflict(target.type, name)
        }
        if target.subresource == "scale" {
            guard let replicas = body[path: ["spec", "replicas"]] else { throw .badRequest("spec.replicas is required") }
            var next = live
            next.set(path: ["spec", "replicas"], to: replicas)
            let result = try write(request, target, live: live, next: next, subresource: "scale")
            return .json(200, Self.scale(of: result, target.type))
        }
        if target.subresource == "status" {
            var next = live
            next["status"] = body["status"]
            return .json(200, served(try write(request, target, live: live, next: next, subresource: "status"), target.type))
        }
        try checkKind(body, target)
        try checkDecode(body, request, target)
        let requested = body[path: ["metadata", "managedFields"]]
        body.set(path: ["metadata", "managedFields"], to: live[path: ["metadata", "managedFields"]] ?? .null)
        if target.type.hasStatusSubresource { body["status"] = live["status"] }
        return .json(200, served(try write(request, target, live: live, next: body, subresource: nil, requestedManagedFields: requested), target.type))
    }

    private func patch(_ request: APIRequest, _ target: Target) throws(APIError) -> APIResponse {
        guard let name = target.name else { throw .methodNotAllowed("PATCH") }
        try checkNamespace(target)
        let isApply = request.contentType == "application/apply-patch+yaml"
        if request.query["force"] != nil && !isApply {
            throw APIError(code: 422, reason: "Invalid", message: "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch")
        }
        let live = cluster.get(target.type, namespace: target.namespace, name: name)
        if isApply {
            return try apply(request, target, live: live, name: name)
        }
        guard let live else { throw .notFound(target.type, name) }
        let patchBody: Value
        do { patchBody = try JSON.parse(request.body) } catch { throw .badRequest("error decoding patch: \(error)") }
        var base = target.subresource == "scale" ? Self.scale(of: live, target.type) : live
        base["metadata"]?["managedFields"] = nil
        var next: Value
        switch request.contentType {
        case "application/merge-patch+json":
            next = Patches.merge(base, patchBody) ?? base
        case "application/json-patch+json":
            do { next = try JSONPatch(patchBody).apply(to: base) } catch {
                throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: \(error.message)")
            }
        case "application/strategic-merge-patch+json":
            guard target.type.strategicMerge else {
                throw APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
            }
            let type = target.subresource == "scale" ? TypeRef(schema: cluster.schema, type: nil) : typeRef(base)
            next = Patches.strategic(base, patchBody, type: type) ?? base
        default:
            throw .unsupportedMediaType(request.contentType)
        }
        if target.subresource == "scale" {
            var updated = live
            updated.set(path: ["spec", "replicas"], to: next[path: ["spec", "replicas"]] ?? .null)
            return .json(200, Self.scale(of: try write(request, target, live: live, next: updated, subresource: "scale"), target.type))
        }
        if target.subresource == "status" {
            var updated = live
            updated["status"] = next["status"]
            return .json(200, served(try write(request, target, live: live, next: updated, subresource: "status"), target.type))
        }
        let requested = next[path: ["metadata", "managedFields"]]
        next.set(path: ["metadata", "managedFields"], to: live[path: ["metadata", "managedFields"]] ?? .null)
        if target.type.hasStatusSubresource { next["status"] = live["status"] }
        return .json(200, served(try write(request, target, live: live, next: next, subresource: nil, requestedManagedFields: requested), target.type))
    }

    private func apply(_ request: APIRequest, _ target: Target, live: Value?, name: String) throws(APIError) -> APIResponse {
        guard let manager = request.query["fieldManager"], !manager.isEmpty else {
            throw APIError(
                code: 422, reason: "Invalid",
                message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                details: ["group": "meta.k8s.io", "kind": "PatchOptions", "causes": [["reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"]]])
        }
        var applied = try decodeBody(request)
        guard case .map = applied else { throw .badRequest("error decoding patch: the applied configuration is not an object") }
        if applied[path: ["metadata", "managedFields"]] != nil { throw .badRequest("metadata.managedFields must be nil") }
        if let version = applied["apiVersion"]?.stringValue, version != target.type.apiVersion {
            throw .badRequest("Incorrect version specified in apply patch. Specified patch version: \(version), expected: \(target.type.apiVersion)")
        }
        if let kind = applied["kind"]?.stringValue, kind != target.type.kind {
            throw .badRequest("Incorrect kind specified in apply patch. Specified patch kind: \(kind), expected: \(target.type.kind)")
        }
        if let applyName = applied[path: ["metadata", "name"]]?.stringValue, applyName != name {
            throw .badRequest("the name of the object (\(applyName)) does not match the name on the URL (\(name))")
        }
        try checkDecode(applied, request, target, apply: true)
        applied.set(path: ["metadata", "name"], to: .string(name))
        if target.type.namespaced { applied.set(path: ["metadata", "namespace"], to: .string(target.namespace ?? "default")) }
        applied["apiVersion"] = .string(target.type.apiVersion)
        applied["kind"] = .string(target.type.kind)
        if target.type.group.isEmpty && target.type.kind == "Secret" { Defaults.foldStringData(&applied) }
        let force = request.query["force"] == "true"
        let type = typeRef(applied)
        guard let live else {
            let prepared = prepareNew(applied, target.type)
            let fieldsV1 = ServerSideApply.appliedFieldsV1(applied, type: type, defaulted: prepared)
            var created = try admit(prepared, target.type)
            let entries: Value = fieldsV1 == .emptyMap ? .list([]) : [
                ManagedFieldsEntry.value(manager: manager, operation: "Apply", apiVersion: target.type.apiVersion, time: Self.now(), subresource: nil, fieldsV1: fieldsV1)
            ]
            created.set(path: ["metadata", "managedFields"], to: entries)
            if request.isDryRun {
                created.set(path: ["metadata", "resourceVersion"], to: "")
                return .json(201, served(created, target.type))
            }
            return .json(201, served(commit(target.type, created, eventType: "ADDED"), target.type))
        }
        let outcome = ServerSideApply.apply(applied, to: live, manager: manager, force: force, type: type, apiVersion: target.type.apiVersion, time: Self.now())
        if !outcome.conflicts.isEmpty && !force {
            let conflict = ApplyConflict(conflicts: outcome.conflicts)
            throw APIError(code: 409, reason: "Conflict", message: conflict.message, details: ["causes": .list(conflict.causes)])
        }
        var next = outcome.object
        let entries = outcome.entries
        next = setManagedFields(next, entries: entries)
        return .json(200, served(try finishUpdate(request, target, live: live, next: next), target.type))
    }

    /// A non-apply write (PUT, merge/JSON/strategic patch, scale, status): the writer owns what changed.
    /// A request that sets `metadata.managedFields` to other entries than the live ones (not
    /// empty) replaces them, and the write itself is not tracked — as kube-apiserver does it (how
    /// clients move ownership, e.g. kubectl's client-side to server-side apply upgrade; `[{}]` clears).
    private func write(
        _ request: APIRequest, _ target: Target, live: Value, next: Value, subresource: String?, requestedManagedFields: Value? = nil
    ) throws(APIError) -> Value {
        let type = typeRef(live)
        var defaulted = next
        Defaults.apply(&defaulted, allocateClusterIP: cluster.allocateClusterIP)
        if case .list(let items)? = requestedManagedFields, !items.isEmpty, requestedManagedFields != live[path: ["metadata", "managedFields"]] {
            let entries = items.compactMap(ManagedFieldsEntry.init)
            guard entries.count == items.filter({ $0 != .map([:]) }).count else {
                throw .badRequest("metadata.managedFields: each entry needs a manager and an operation")
            }
            return try finishUpdate(request, target, live: live, next: setManagedFields(defaulted, entries: entries))
        }
        let changed = FieldSets.changed(from: ServerSideApply.trackable(live), to: ServerSideApply.trackable(defaulted), type: type)
        var entries = Self.managedFields(live)
        if !changed.isEmpty {
            let manager = request.fieldManager
            for i in entries.indices { entries[i].fields.remove(changed) }
            let storedSubresource = subresource
            // The writer owns what it set; what it removed is nobody's any more.
            let newDefaulted = ServerSideApply.trackable(defaulted)
            let owned = FieldSet(paths: changed.paths.filter { ServerSideApply.value(at: $0, in: newDefaulted, type: type) != nil })
            if let index = entries.firstIndex(where: { $0.sameIdentity(manager: manager, operation: "Update", apiVersion: target.type.apiVersion, subresource: storedSubresource) }) {
                entries[index].fields.paths.formUnion(owned.paths)
                entries[index].time = Self.now()
            } else {
                entries.append(ManagedFieldsEntry(manager: manager, operation: "Update", apiVersion: target.type.apiVersion, time: Self.now(), subresource: storedSubresource, fields: owned))
            }
        }
        return try finishUpdate(request, target, live: live, next: setManagedFields(defaulted, entries: entries))
    }

    /// Defaults, bumps generation, and stores an updated object, unless nothing changed.
    private func finishUpdate(_ request: APIRequest, _ target: Target, live: Value, next: Value) throws(APIError) -> Value {
        var next = next
        Defaults.apply(&next, allocateClusterIP: cluster.allocateClusterIP)
        next = try admit(next, target.type)
        try validateUpdate(target.type, live: live, next: next)
        for key in ["uid", "creationTimestamp", "resourceVersion", "generation"] {
            next.set(path: ["metadata", key], to: live[path: ["metadata", key]] ?? .null)
            if next[path: ["metadata", key]] == .null { next["metadata"]?[key] = nil }
        }
        if Self.withoutVolatile(next) == Self.withoutVolatile(live) { return live }
        if let generation = live[path: ["metadata", "generation"]]?.intValue {
            var bump = next["spec"] != live["spec"]
                || (target.type.kind == "Deployment" && next[path: ["metadata", "annotations"]] != live[path: ["metadata", "annotations"]])
            if !target.type.strategicMerge {
                // Custom resources: every change except metadata (and status, with the status subresource).
                var a = live, b = next
                for key in ["metadata"] + (target.type.hasStatusSubresource ? ["status"] : []) { a[key] = nil; b[key] = nil }
                bump = a != b
            }
            if bump { next.set(path: ["metadata", "generation"], to: .int(generation + 1)) }
        }
        if request.isDryRun { return next }
        return commit(target.type, next, eventType: "MODIFIED")
    }

    /// Two versions compared without managedFields timestamps.
    private static func withoutVolatile(_ object: Value) -> Value {
        var object = object
        if case .list(var entries)? = object[path: ["metadata", "managedFields"]] {
            for i in entries.indices { entries[i]["time"] = nil }
            object.set(path: ["metadata", "managedFields"], to: .list(entries))
        }
        return object
    }

    private func validateUpdate(_ type: ResourceType, live: Value, next: Value) throws(APIError) {
        let name = live[path: ["metadata", "name"]]?.stringValue ?? ""
        switch (type.group, type.kind) {
        case ("apps", "Deployment"), ("apps", "DaemonSet"), ("apps", "ReplicaSet"):
            if let old = live[path: ["spec", "selector"]], let new = next[path: ["spec", "selector"]], old != new {
                throw .invalid(type, name, [("FieldValueInvalid", "spec.selector", "Invalid value: \(JSON.serialize(new)): field is immutable")])
            }
        case ("apps", "StatefulSet"):
            var defaultedLive = live
            Defaults.apply(&defaultedLive, allocateClusterIP: { "" })
            var a = defaultedLive["spec"] ?? .emptyMap
            var b = next["spec"] ?? .emptyMap
            for key in ["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"] {
                a[key] = nil
                b[key] = nil
            }
            if a != b {
                throw .invalid(type, name, [("FieldValueForbidden", "spec", "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")])
            }
        case ("", "Service"):
            if let old = live[path: ["spec", "clusterIP"]], let new = next[path: ["spec", "clusterIP"]], old != new {
                throw .invalid(type, name, [("FieldValueInvalid", "spec.clusterIP", "Invalid value: \(JSON.serialize(new)): field is immutable")])
            }
        case ("", "PersistentVolumeClaim"):
            var a = live["spec"] ?? .emptyMap
            var b = next["spec"] ?? .emptyMap
            a["resources"] = nil
            b["resources"] = nil
            if a != b {
                throw .invalid(type, name, [("FieldValueForbidden", "spec", "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims")])
            }
        case ("batch", "Job"):
            if let old = live[path: ["spec", "selector"]], let new = next[path: ["spec", "selector"]], old != new {
                throw .invalid(type, name, [("FieldValueInvalid", "spec.selector", "Invalid value: \(JSON.serialize(new)): field is immutable")])
            }
        default:
            break
        }
    }

    private func delete(_ request: APIRequest, _ target: Target) throws(APIError) -> APIResponse {
        guard let name = target.name else { throw .methodNotAllowed("DELETE") }
        guard let object = cluster.get(target.type, namespace: target.namespace, name: name) else { throw .notFound(target.type, name) }
        if !request.isDryRun {
            if target.type.kind == "Namespace" && target.type.group.isEmpty {
                for type in cluster.resourceTypes where type.namespaced {
                    let (items, _) = cluster.list(type, namespace: name)
                    for item in items { _ = cluster.remove(type, namespace: name, name: item[path: ["metadata", "name"]]?.stringValue ?? "") }
                }
            }
            if target.type.kind == "CustomResourceDefinition" { cluster.unregisterCRD(name) }
            _ = cluster.remove(target.type, namespace: target.namespace, name: name)
        }
        var details: ValueMap = ["name": .string(name)]
        if !target.type.group.isEmpty { details["group"] = .string(target.type.group) }
        details["kind"] = .string(target.type.plural)
        if let uid = object[path: ["metadata", "uid"]] { details["uid"] = uid }
        return .json(200, ["kind": "Status", "apiVersion": "v1", "metadata": .emptyMap, "status": "Success", "details": .map(details)])
    }

    // MARK: Helpers

    /// Type checks (and unknown fields with `fieldValidation=Strict`) on what a client sent.
    private func checkDecode(_ body: Value, _ request: APIRequest, _ target: Target, apply: Bool = false) throws(APIError) {
        guard target.type.strategicMerge else { return }
        try Validation.decode(body, type: typeRef(body.settingType(target.type)), resource: target.type, strict: request.query["fieldValidation"] == "Strict", apply: apply)
    }

    /// The custom resource's schema from its CRD, for pruning and defaults.
    private func customSchema(_ type: ResourceType) -> Value? {
        guard !type.strategicMerge, let crdType = cluster.resourceType(apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition"),
            let crd = cluster.get(crdType, namespace: nil, name: "\(type.plural).\(type.group)")
        else { return nil }
        let version = crd[path: ["spec", "versions"]]?.listValue?.first { $0["name"]?.stringValue == type.version }
        return version?[path: ["schema", "openAPIV3Schema"]]
    }

    /// Pruning and defaults (custom resources) and field validation (built-in kinds) of an object about to be stored.
    private func admit(_ object: Value, _ type: ResourceType) throws(APIError) -> Value {
        if let schema = customSchema(type) { return StructuralSchema.apply(object, schema: schema) }
        try Validation.validate(object, type)
        return object
    }

    private func checkKind(_ object: Value, _ target: Target) throws(APIError) {
        if let kind = object["kind"]?.stringValue, kind != target.type.kind {
            throw .badRequest("the kind of the provided object (\(kind)) does not match the kind on the URL (\(target.type.kind))")
        }
    }

    func typeRef(_ object: Value) -> TypeRef {
        ServerSideApply.typeRef(for: object, schema: cluster.schema)
    }

    /// Sets server metadata and defaults on a new object.
    private func prepareNew(_ object: Value, _ type: ResourceType) -> Value {
        var object = object
        object["apiVersion"] = .string(type.apiVersion)
        object["kind"] = .string(type.kind)
        Defaults.apply(&object, allocateClusterIP: cluster.allocateClusterIP)
        object.set(path: ["metadata", "uid"], to: .string(Self.newUID()))
        object.set(path: ["metadata", "creationTimestamp"], to: .string(Self.now()))
        if Self.hasGeneration(type) { object.set(path: ["metadata", "generation"], to: 1) }
        if type.hasStatusSubresource && type.group != "" && !type.strategicMerge { object["status"] = nil }
        return object
    }

    private func commit(_ type: ResourceType, _ object: Value, eventType: String) -> Value {
        if Controllers.isWorkload(type) {
            let stuck = controllers.isStuck(object)
            let immediate = controllers.rolloutDelay <= 0 && !stuck
            let stored = cluster.store(type, Controllers.reconcile(object, type, phase: immediate ? .complete : .progressing), eventType: eventType)
            if !immediate { scheduleRollout(type, stored, stuck: stuck) }
            return stored
        }
        if type.kind == "CustomResourceDefinition" && type.group == "apiextensions.k8s.io" {
            var crd = object
            crd.set(path: ["status"], to: [
                "acceptedNames": crd[path: ["spec", "names"]] ?? .emptyMap,
                "conditions": [
                    ["type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": .string(Self.now())],
                    ["type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": .string(Self.now())],
                ],
                "storedVersions": .list((crd[path: ["spec", "versions"]]?.listValue ?? []).filter { $0["storage"]?.boolValue == true }.compactMap { $0["name"] }),
            ])
            cluster.registerCRD(crd)
            return cluster.store(type, crd, eventType: eventType)
        }
        return cluster.store(type, object, eventType: eventType)
    }

    /// Finishes a rollout after the delay (or marks it stuck), unless the object changed meanwhile.
    private func scheduleRollout(_ type: ResourceType, _ object: Value, stuck: Bool) {
        let namespace = object[path: ["metadata", "namespace"]]?.stringValue
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        let generation = object[path: ["metadata", "generation"]]
        let cluster = self.cluster
        let delay = max(controllers.rolloutDelay, 0.01)
        let deadline = Double(object[path: ["spec", "progressDeadlineSeconds"]]?.intValue ?? 600)
        @Sendable func advance(to phase: Controllers.Phase) {
            guard let live = cluster.get(type, namespace: namespace, name: name), live[path: ["metadata", "generation"]] == generation else { return }
            let next = Controllers.reconcile(live, type, phase: phase)
            if next != live { cluster.store(type, next, eventType: "MODIFIED") }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { advance(to: stuck ? .stuck : .complete) }
        if stuck && type.kind == "Deployment" {
            DispatchQueue.global().asyncAfter(deadline: .now() + max(delay, deadline)) { advance(to: .deadlineExceeded) }
        }
    }

    static func hasGeneration(_ type: ResourceType) -> Bool {
        if !type.strategicMerge { return true }  // custom resources
        switch type.kind {
        case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "HorizontalPodAutoscaler",
            "PodDisruptionBudget", "NetworkPolicy", "Ingress", "CustomResourceDefinition", "Pod":
            return true
        default:
            return false
        }
    }

    static func managedFields(_ object: Value) -> [ManagedFieldsEntry] {
        (object[path: ["metadata", "managedFields"]]?.listValue ?? []).compactMap(ManagedFieldsEntry.init)
    }

    private func setManagedFields(_ object: Value, entries: [ManagedFieldsEntry]) -> Value {
        var object = object
        let kept = entries.filter { !$0.fields.isEmpty }
        let sorted = kept.sorted { a, b in
            if a.operation != b.operation { return a.operation == "Apply" }
            if a.time != b.time { return a.time < b.time }
            return (a.manager, a.apiVersion, a.subresource ?? "") < (b.manager, b.apiVersion, b.subresource ?? "")
        }
        object.set(path: ["metadata", "managedFields"], to: .list(sorted.map(\.value)))
        return object
    }

    static func scale(of object: Value, _ type: ResourceType) -> Value {
        let labels = object[path: ["spec", "selector", "matchLabels"]]?.mapValue ?? [:]
        var metadata: ValueMap = [:]
        for key in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
            if let v = object[path: ["metadata", key]] { metadata[key] = v }
        }
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": .map(metadata),
            "spec": ["replicas": object[path: ["spec", "replicas"]] ?? 0],
            "status": [
                "replicas": object[path: ["status", "replicas"]] ?? 0,
                "selector": .string(labels.map { "\($0.key)=\($0.value.scalarText ?? "")" }.sorted().joined(separator: ",")),
            ],
        ]
    }

    /// The current time as the API prints it (RFC 3339, whole seconds, UTC). Formatted once a second.
    static func now() -> String {
        let second = Int(Date.now.timeIntervalSince1970.rounded(.down))
        return lastSecond.withLock { last in
            if last.second != second {
                last = (second, Date(timeIntervalSince1970: Double(second)).formatted(Date.ISO8601FormatStyle(timeZone: .gmt)))
            }
            return last.text
        }
    }
    private static let lastSecond = Mutex<(second: Int, text: String)>((-1, ""))

    /// A random (version 4) UUID for a new object, lower case, from a generator seeded once from
    /// the system's: object uids need to be unique, not secret, and a system call per create
    /// showed in profiles.
    static func newUID() -> String {
        let (high, low) = uidGenerator.withLock { generator in (generator.next(), generator.next()) }
        var bytes = withUnsafeBytes(of: high.bigEndian) { Array($0) } + withUnsafeBytes(of: low.bigEndian) { Array($0) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
    private static let uidGenerator = Mutex(SplitMix64(seed: UInt64.random(in: .min ... .max)))
}

/// `labelSelector` and `fieldSelector` of list and watch requests.
struct Selectors: Sendable {
    var labels: [(key: String, op: String, values: [String])] = []
    var fields: [(key: String, equal: Bool, value: String)] = []

    init(_ query: [String: String]) throws(APIError) {
        if let text = query["labelSelector"], !text.isEmpty {
            for requirement in Self.splitTopLevel(text) {
                let r = requirement.trimmingCharacters(in: .whitespaces)
                if let range = r.range(of: " notin ") {
                    labels.append((String(r[..<range.lowerBound]).trimmingCharacters(in: .whitespaces), "notin", Self.setValues(String(r[range.upperBound...]))))
                } else if let range = r.range(of: " in ") {
                    labels.append((String(r[..<range.lowerBound]).trimmingCharacters(in: .whitespaces), "in", Self.setValues(String(r[range.upperBound...]))))
                } else if let range = r.range(of: "!=") {
                    labels.append((String(r[..<range.lowerBound]), "!=", [String(r[range.upperBound...])]))
                } else if let range = r.range(of: "==") {
                    labels.append((String(r[..<range.lowerBound]), "=", [String(r[range.upperBound...])]))
                } else if let range = r.range(of: "=") {
                    labels.append((String(r[..<range.lowerBound]), "=", [String(r[range.upperBound...])]))
                } else if r.hasPrefix("!") {
                    labels.append((String(r.dropFirst()), "!exists", []))
                } else {
                    labels.append((r, "exists", []))
                }
            }
        }
        if let text = query["fieldSelector"], !text.isEmpty {
            for requirement in text.split(separator: ",") {
                let r = String(requirement)
                if let range = r.range(of: "!=") {
                    fields.append((String(r[..<range.lowerBound]), false, String(r[range.upperBound...])))
                } else if let range = r.range(of: "==") ?? r.range(of: "=") {
                    fields.append((String(r[..<range.lowerBound]), true, String(r[range.upperBound...])))
                }
            }
            for field in fields where !["metadata.name", "metadata.namespace"].contains(field.key) {
                throw APIError.badRequest("field label not supported: \(field.key)")
            }
        }
    }

    private static func splitTopLevel(_ text: String) -> [String] {
        var parts: [String] = []
        var depth = 0
        var current = ""
        for c in text {
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if c == "," && depth == 0 { parts.append(current); current = "" } else { current.append(c) }
        }
        parts.append(current)
        return parts
    }

    private static func setValues(_ text: String) -> [String] {
        text.trimmingCharacters(in: CharacterSet(charactersIn: " ()")).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func matches(_ object: Value) -> Bool {
        let objectLabels = object[path: ["metadata", "labels"]]?.mapValue ?? [:]
        for requirement in labels {
            let value = objectLabels[requirement.key]?.scalarText
            switch requirement.op {
            case "=": if value != requirement.values.first { return false }
            case "!=": if value == requirement.values.first { return false }
            case "in": if value == nil || !requirement.values.contains(value!) { return false }
            case "notin": if let value, requirement.values.contains(value) { return false }
            case "exists": if value == nil { return false }
            case "!exists": if value != nil { return false }
            default: return false
            }
        }
        for field in fields {
            let path = field.key.split(separator: ".").map(String.init)
            let value = object[path: path]?.stringValue ?? ""
            if (value == field.value) != field.equal { return false }
        }
        return true
    }
}

extension Value {
    /// The object with apiVersion and kind of a resource type (for schema lookups).
    func settingType(_ type: ResourceType) -> Value {
        var copy = self
        copy["apiVersion"] = .string(type.apiVersion)
        copy["kind"] = .string(type.kind)
        return copy
    }
}
