import TaiCore

/// After every transformer has run, references to renamed objects are made to follow them:
/// a Deployment's `serviceAccountName`, a RoleBinding's `roleRef` and `subjects`, volume and env
/// references to ConfigMaps and Secrets, and the rest of kustomize's name-reference table.
///
/// Candidates are sieved the way kustomize sieves them: by a previous name, by kind, by
/// `roleRef` kind, by namespace, then by equal prefixes and suffixes.
enum NameReferences {
    static func fix(_ resources: inout [Resource]) throws(RenderError) {
        // Nothing was renamed or moved: every reference is already right.
        guard resources.contains(where: { !$0.previousIDs.isEmpty }) else { return }
        let index = Index(resources)
        for i in resources.indices {
            let referrer = index.resources[i]
            let referrerGVK = referrer.previousIDs.first.map {
                GroupVersionKind(group: referrer.gvk.group, version: referrer.gvk.version, kind: $0.kind)
            } ?? referrer.gvk
            var object = resources[i].object
            let pool = Pool(referrer: referrer, index: index)
            for (referral, specs) in BuiltinFieldSpecs.nameReferences {
                for spec in specs where spec.selector.matches(referrerGVK) {
                    let context = Context(referrer: referrer, referral: referral, spec: spec, pool: pool)
                    do {
                        try spec.apply(to: &object, createKind: nil) { node throws(FieldSpecError) in
                            try context.set(&node)
                        }
                    } catch {
                        throw RenderError(
                            path: referrer.origin,
                            message: "updating name reference in '\(spec.pathString)' of \(referrer.identity): \(error.message)")
                    }
                }
            }
            resources[i].object = object
        }
    }

    /// The resources as they were before any reference was fixed, indexed by every name they
    /// had before a transformer changed it.
    final class Index {
        let resources: [Resource]
        let byPreviousName: [String: [Int]]

        init(_ resources: [Resource]) {
            self.resources = resources
            var byName: [String: [Int]] = [:]
            for (i, r) in resources.enumerated() {
                for name in Set(r.previousIDs.map(\.name)) { byName[name, default: []].append(i) }
            }
            byPreviousName = byName
        }

        func candidates(previouslyNamed name: String) -> [Resource] {
            byPreviousName[name]?.map { resources[$0] } ?? []
        }
    }

    /// The objects `referrer` may refer to, as kustomize decides it: everything when it is
    /// cluster-scoped; otherwise cluster-scoped objects, objects in its namespace, and objects
    /// in namespaces its subjects name (for role bindings).
    final class Pool {
        let referrer: Resource
        let index: Index
        private let bindingNamespaces: Set<String>
        private lazy var originalNamespaces: Set<String> = Set(index.resources.filter(contains).map(\.originalNamespace))

        init(referrer: Resource, index: Index) {
            self.referrer = referrer
            self.index = index
            var namespaces = Set<String>()
            if referrer.kind == "RoleBinding" || referrer.kind == "ClusterRoleBinding",
                case .list(let subjects)? = referrer.object["subjects"]
            {
                for subject in subjects {
                    if case .string(let ns)? = subject["namespace"] { namespaces.insert(ns) }
                }
            }
            bindingNamespaces = namespaces
        }

        func contains(_ target: Resource) -> Bool {
            if ClusterScope.isClusterScoped(referrer.kind) || ClusterScope.isClusterScoped(target.kind) { return true }
            if target.effectiveNamespace == referrer.effectiveNamespace { return true }
            return bindingNamespaces.contains(target.namespace)
        }

        /// Whether some object of the pool was originally in `namespace`.
        func hasOriginalNamespace(_ namespace: String) -> Bool { originalNamespaces.contains(namespace) }
    }

    struct Context {
        let referrer: Resource
        let referral: KindSelector
        let spec: FieldSpec
        let pool: Pool

        func set(_ node: inout Value) throws(FieldSpecError) {
            switch node {
            case .null:
                return
            case .string:
                try setScalar(&node)
            case .map:
                try setMapping(&node)
            case .list(var items):
                node = .null
                for j in items.indices {
                    switch items[j] {
                    case .string: try setScalar(&items[j])
                    case .map: try setMapping(&items[j])
                    default: break
                    }
                }
                node = .list(items)
            default:
                throw FieldSpecError(message: "a name reference must be a string, list or map, found a \(node.typeName)")
            }
        }

        private func setScalar(_ node: inout Value) throws(FieldSpecError) {
            guard case .string(let oldName) = node else { return }
            let candidates = pool.index.candidates(previouslyNamed: oldName).filter(pool.contains)
            guard let target = try select(oldName, candidates, sameNamespaceToo: false) else { return }
            if target.name != oldName { node = .string(target.name) }
        }

        private func setMapping(_ node: inout Value) throws(FieldSpecError) {
            guard case .string(let oldName)? = node["name"] else {
                throw FieldSpecError(message: "path config error; no 'name' field in node")
            }
            var candidates = pool.index.candidates(previouslyNamed: oldName).filter(pool.contains)
            if case .string(let namespace)? = node["namespace"] {
                candidates =
                    pool.hasOriginalNamespace(namespace)
                    ? candidates.filter { $0.originalNamespace == namespace } : candidates.filter { $0.namespace == namespace }
            }
            guard let target = try select(oldName, candidates, sameNamespaceToo: true) else { return }
            if target.name == oldName && target.namespace.isEmpty { return }
            node["name"] = .string(target.name)
            if !target.namespace.isEmpty { node["namespace"] = .string(target.namespace) }
        }

        private func select(_ oldName: String, _ pool: [Resource], sameNamespaceToo: Bool) throws(FieldSpecError) -> Resource? {
            // Candidates arrive already sieved by previous name and by reach.
            var c = pool.filter { r in
                r.previousIDs.contains { referral.matches(GroupVersionKind(group: r.gvk.group, version: r.gvk.version, kind: $0.kind)) }
            }
            if spec.pathString.hasSuffix("roleRef/name"),
                case .string(let apiGroup)? = referrer.object[path: ["roleRef", "apiGroup"]],
                case .string(let kind)? = referrer.object[path: ["roleRef", "kind"]]
            {
                let roleRef = KindSelector(group: apiGroup, version: nil, kind: kind)
                c = c.filter { r in
                    r.previousIDs.contains { roleRef.matches(GroupVersionKind(group: r.gvk.group, version: r.gvk.version, kind: $0.kind)) }
                }
            }
            if !ClusterScope.isClusterScoped(referrer.kind) {
                c = c.filter { r in
                    ClusterScope.isClusterScoped(r.kind) || r.kind == "ServiceAccount"
                        || r.effectiveNamespace == referrer.effectiveNamespace
                }
            }
            if c.count == 1 { return c[0] }
            c = c.filter { $0.prefixes == referrer.prefixes && $0.suffixes == referrer.suffixes }
            if c.count == 1 { return c[0] }
            if c.isEmpty { return nil }
            let identical = c.allSatisfy { $0.name == c[0].name && (!sameNamespaceToo || $0.namespace == c[0].namespace) }
            if identical { return c[0] }
            throw FieldSpecError(
                message: "found multiple possible referrals: \(c.map { $0.identity.description }.joined(separator: ", "))")
        }
    }
}
