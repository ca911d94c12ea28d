/// kustomize's label and annotation transformers insert one and the same YAML node for a key in
/// every place of an object they add it to (metadata, selectors, templates). A later transformer
/// that sets that key where the node already is overwrites the node in place — and so changes
/// every place that shares it: a selector label added by `commonLabels` in a base follows a
/// plain `labels` entry of an overlay. This remembers which places share a value, so the
/// renderer reproduces that.
import TaiCore

final class SharedValues {
    struct Place: Hashable {
        var resource: Int
        var path: [PathStep]
    }

    private var groupOf: [Place: Int] = [:]
    private var members: [Int: [Place]] = [:]
    private var placesOf: [Int: Set<Place>] = [:]
    private var nextGroup = 0

    /// A new shared node (one per key per transformer run).
    func newGroup() -> Int {
        nextGroup += 1
        return nextGroup
    }

    func join(_ place: Place, _ group: Int) {
        groupOf[place] = group
        members[group, default: []].append(place)
        placesOf[place.resource, default: []].insert(place)
    }

    func group(of place: Place) -> Int? { groupOf[place] }

    func places(in group: Int) -> [Place] { members[group] ?? [] }

    /// A JSON 6902 patch rebuilds the object from JSON: nothing in it is shared any more.
    func forget(resource: Int) {
        forget(Array(placesOf[resource] ?? []))
    }

    /// A strategic merge patch puts new nodes where it changes a value: those places stop
    /// sharing; the rest of the object keeps its nodes.
    func forgetChanged(resource: Int, before: Value, after: Value) {
        forget((placesOf[resource] ?? []).filter { before.at($0.path) != after.at($0.path) })
    }

    private func forget(_ places: [Place]) {
        for place in places {
            placesOf[place.resource]?.remove(place)
            guard let group = groupOf.removeValue(forKey: place) else { continue }
            members[group]?.removeAll { $0 == place }
        }
    }
}

extension Value {
    /// The value at a path of keys and indices, if it exists.
    func at(_ path: [PathStep]) -> Value? {
        var current: Value? = self
        for step in path {
            switch (current, step) {
            case (.map(let m)?, .key(let k)): current = m[k]
            case (.list(let l)?, .index(let i)): current = l.indices.contains(i) ? Optional(l[i]) : Optional<Value>.none
            default: return nil
            }
        }
        return current
    }
}
