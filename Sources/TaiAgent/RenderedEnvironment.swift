public import TaiCore
public import TaiDiff
public import TaiRender

/// An environment rendered from a checkout, its objects labelled as members of its inventory:
/// what diff, apply and the agent start from.
public struct RenderedEnvironment: Sendable {
    public var name: String
    /// The rendered objects, each labelled `applyset.kubernetes.io/part-of`.
    public var objects: [Value]
    public var inventory: Inventory
    /// The kinds to watch, `apiVersion|kind|namespace`, sorted: worked out once per render, not per sync.
    public var watchKinds: [String]

    /// Renders `directory` (a kustomization) as environment `name`; the inventory lives in the
    /// environment's Namespace object, else the namespace most objects use, else `fallbackNamespace`.
    public static func render(
        name: String, directory: String, fallbackNamespace: String, onWarning: (@Sendable (String) -> Void)? = nil
    ) throws(RenderError) -> RenderedEnvironment {
        let objects = try Kustomizer(onWarning: onWarning).build(directory).map(\.object)
        return labelled(name: name, objects: objects, fallbackNamespace: fallbackNamespace)
    }

    /// Labels already rendered objects as members of environment `name`'s inventory.
    public static func labelled(name: String, objects: [Value], fallbackNamespace: String) -> RenderedEnvironment {
        let inventory = Inventory(environment: name, namespace: inventoryNamespace(objects, fallback: fallbackNamespace))
        // Labelled in place, while nothing else holds the objects.
        var members = objects
        for index in members.indices { inventory.label(&members[index]) }
        let kinds = Set(members.compactMap { o -> String? in
            guard let apiVersion = o["apiVersion"]?.stringValue, let kind = o["kind"]?.stringValue else { return nil }
            return apiVersion + "|" + kind + "|" + (o[path: ["metadata", "namespace"]]?.stringValue ?? "")
        })
        return RenderedEnvironment(name: name, objects: members, inventory: inventory, watchKinds: kinds.sorted())
    }

    /// Where the environment's inventory lives: its Namespace object, else the namespace most objects use.
    public static func inventoryNamespace(_ objects: [Value], fallback: String) -> String {
        if let ns = objects.first(where: { $0["kind"] == "Namespace" && $0["apiVersion"] == "v1" })?[path: ["metadata", "name"]]?.stringValue {
            return ns
        }
        var counts: [String: Int] = [:]
        for object in objects { if let ns = object[path: ["metadata", "namespace"]]?.stringValue { counts[ns, default: 0] += 1 } }
        return counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? fallback
    }

    /// The canary weights the environment's VirtualServices route with: `route destination
    /// subset → weight`, per VirtualService.
    public var canaryWeights: [(virtualService: String, subset: String, weight: Int)] {
        var out: [(String, String, Int)] = []
        for object in objects where object["kind"] == "VirtualService" {
            let name = object.name ?? ""
            for http in object[path: ["spec", "http"]]?.listValue ?? [] {
                for route in http["route"]?.listValue ?? [] {
                    let subset = route[path: ["destination", "subset"]]?.stringValue ?? route[path: ["destination", "host"]]?.stringValue ?? "?"
                    out.append((name, subset, route["weight"]?.intValue ?? 100))
                }
            }
        }
        return out
    }
}
