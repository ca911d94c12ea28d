import Foundation
public import TaiCore
import TaiRender
public import TaiYAML

/// Where an environment's canary stands in a tree of the config repository: read from its
/// kustomization's `images` and its weights file.
public struct CanaryState: Sendable, Equatable {
    public var stableTag: String
    public var canaryTag: String
    /// The canary subset's weight; nil when the environment routes no traffic by weight (no
    /// VirtualService: the canary then gets its share by replicas).
    public var canaryWeight: Int?

    public init(stableTag: String, canaryTag: String, canaryWeight: Int?) {
        self.stableTag = stableTag
        self.canaryTag = canaryTag
        self.canaryWeight = canaryWeight
    }

    /// A canary of another version than the stable one is deployed.
    public var inProgress: Bool { canaryTag != stableTag }

    /// The step of `plan` the canary is at (0-based), if its weight is one.
    public func stepIndex(in plan: [Int]) -> Int? {
        guard inProgress, let w = canaryWeight else { return nil }
        return plan.firstIndex(of: w)
    }

    public var summary: String {
        let weight = canaryWeight.map { "canary \($0)% " } ?? "canary "
        return inProgress ? "\(weight)on \(canaryTag), stable on \(stableTag)" : "stable on \(stableTag) (no canary in progress)"
    }
}

/// One change a promotion makes to a file: a value moved (the path, the text it had, the value it
/// gets), a file created, or an entry added to a top-level list. Kept as edits (not whole files)
/// so that a commit retried on a newer tree makes the same changes there — and refuses when
/// someone else moved the same value, or created the same file, meanwhile.
public struct ValueEdit: Sendable, Equatable {
    public enum Operation: Sendable, Equatable {
        case replace(path: [YAMLPathStep], old: String, new: Value)
        /// The file must not exist yet.
        case create(content: String)
        /// `item` (a block list element written at column 0) appended to the top-level list `key`.
        case appendToList(key: String, item: String)
    }

    public var file: String
    public var operation: Operation

    public init(file: String, operation: Operation) {
        self.file = file
        self.operation = operation
    }

    public init(file: String, path: [YAMLPathStep], old: String, new: Value) {
        self.init(file: file, operation: .replace(path: path, old: old, new: new))
    }

    /// Applies edits to the files `read` gives; by file, their new contents.
    ///
    /// - Throws: ``PromoteError`` naming the file (and field) that no longer takes the edit.
    public static func apply(_ edits: [ValueEdit], read: (String) -> [UInt8]?) throws(PromoteError) -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for file in Set(edits.map(\.file)).sorted() {
            var text = read(file).map { String(decoding: $0, as: UTF8.self) }
            do {
                for edit in edits where edit.file == file {
                    switch edit.operation {
                    case .create(let content):
                        guard text == nil else { throw PromoteError(file: file, message: "exists now: another change created it; start again from the new state") }
                        text = content
                    case .appendToList(let key, let item):
                        guard let current = text else { throw PromoteError(file: file, message: "cannot be read") }
                        text = try YAML.appendingListItem(in: current, key: key, item: item, file: file)
                    case .replace(let path, let old, let new):
                        guard let current = text else { throw PromoteError(file: file, message: "cannot be read") }
                        let found = try YAML.scalarLocations(current, file: file).first { $0.document == 0 && $0.path == path }?.text
                        guard found == old else {
                            throw PromoteError(
                                file: file, field: YAML.pathText(path),
                                message: "is \(found.map { "'\($0)'" } ?? "missing") now, not '\(old)': another change moved it; start again from the new state")
                        }
                        text = try YAML.replacingScalars(in: current, [YAMLScalarEdit(path: path, value: new)], file: file)
                    }
                }
            } catch let error as PromoteError {
                throw error
            } catch {
                throw PromoteError(file: file, message: "\(error)")
            }
            if let text { out[file] = Array(text.utf8) }
        }
        return out
    }
}

/// What a promotion command asks for.
public enum PromotionAction: Sendable, Equatable {
    /// The canary at a weight of the plan.
    case step(Int)
    /// The next step of the plan (the first one when none is in progress; finish after the last).
    case next
    /// The new tag becomes the stable one; the canary back to weight 0.
    case finish
    /// The canary back to the stable tag at weight 0.
    case rollback
}

/// One change of an environment's canary, decided and checked, ready to commit.
public struct PromotionChange: Sendable {
    public enum Kind: Sendable, Equatable {
        case step(weight: Int, index: Int)
        case finish
        case rollback
    }

    public var environment: String
    public var image: String
    public var kind: Kind
    public var from: CanaryState
    public var to: CanaryState
    /// The tag being promoted (the one rolled back, for a rollback).
    public var tag: String
    /// The values that move.
    public var edits: [ValueEdit]
    /// Repository-relative path → new content (the edits applied to the tree planned on).
    public var files: [String: [UInt8]]
    /// The weights as the commit records them: `stable=90,canary=10`.
    public var weightsText: String
    public var plan: [Int]

    /// `promote/prod/tai-api-v1.1.0-10`, `promote/prod/tai-api-v1.1.0-finish`, `rollback/prod/tai-api-v1.1.0`.
    public var branch: String {
        switch kind {
        case .step(let weight, _): return "promote/\(environment)/\(image)-\(tag)-\(weight)"
        case .finish: return "promote/\(environment)/\(image)-\(tag)-finish"
        case .rollback: return "rollback/\(environment)/\(image)-\(tag)"
        }
    }

    /// The prefix every step branch of this environment and image shares.
    public static func branchPrefix(environment: String, image: String) -> String { "promote/\(environment)/\(image)-" }

    public var stepText: String {
        switch kind {
        case .step(let weight, let index): return "\(weight) (\(index + 1)/\(plan.count))"
        case .finish: return "finish"
        case .rollback: return "rollback"
        }
    }

    /// The commit's subject line (also the pull request's title).
    public var title: String {
        switch kind {
        case .step(let weight, _): return "promote(\(environment)): \(image) \(from.stableTag) → \(tag), canary \(weight)%"
        case .finish: return "promote(\(environment)): \(image) \(from.stableTag) → \(tag), finish"
        case .rollback: return "rollback(\(environment)): \(image) \(tag) → \(from.stableTag)"
        }
    }

    /// A paragraph for the commit message and pull request body.
    public var explanation: String {
        let created = edits.compactMap { edit -> String? in if case .create = edit.operation { return edit.file } else { return nil } }
        let first = created.isEmpty ? "" : " First promotion here: \(created.joined(separator: ", ")) is created and listed in the kustomization's patches."
        return steps + first
    }

    private var steps: String {
        switch kind {
        case .step(let weight, let index):
            return "Step \(index + 1) of \(plan.count) of the canary plan \(plan): the canary image moves to \(tag)"
                + (to.canaryWeight == nil ? " (no VirtualService: the canary's share is its replicas)." : ", the weights to \(weightsText).")
                + " Merging this rolls it out; the analysis then decides the next step (\(weight) → \(plan.first { $0 > weight }.map(String.init) ?? "finish"))."
        case .finish:
            return "The canary passed: \(tag) becomes the stable image and the canary returns to weight 0 (\(weightsText))."
        case .rollback:
            return "The canary \(tag) is rolled back: the canary image returns to the stable \(from.stableTag) and the weights to \(weightsText)."
        }
    }
}

/// Reads an environment's canary from a tree, plans a change and writes it into the files, keeping
/// their comments and layout; then renders the changed tree and checks what traffic would see.
public struct CanaryEditor: Sendable {
    public var policy: PromotionPolicy
    public var environment: String
    /// The repository's top directory (a checkout or snapshot).
    public var root: String
    /// The environment's kustomization directory, relative to `root`.
    public var path: String

    public init(policy: PromotionPolicy, environment: String, root: String, path: String) {
        self.policy = policy
        self.environment = environment
        self.root = root
        self.path = path
    }

    var kustomizationFile: String {
        for name in ["kustomization.yaml", "kustomization.yml", "Kustomization"] where FileManager.default.fileExists(atPath: root + "/" + path + "/" + name) {
            return path + "/" + name
        }
        return path + "/kustomization.yaml"
    }

    var weightsPath: String { path + "/" + policy.weightsFile }

    private func text(_ relative: String, overrides: [String: [UInt8]] = [:]) throws(PromoteError) -> String {
        if let bytes = overrides[relative] { return String(decoding: bytes, as: UTF8.self) }
        guard let data = FileManager.default.contents(atPath: root + "/" + relative) else {
            throw PromoteError(file: relative, message: "cannot be read")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The `newTag` of an `images` entry: its location in the kustomization.
    private func tagLocation(_ name: String, in locations: [YAMLScalarLocation], file: String) throws(PromoteError) -> YAMLScalarLocation {
        guard let nameAt = locations.first(where: {
            $0.document == 0 && $0.path.count == 3 && $0.path[0] == .key("images") && $0.path[2] == .key("name") && $0.text == name
        }) else {
            throw PromoteError(file: file, field: "images", message: "no entry named '\(name)' (spec.promotion names it); add `- name: \(name)` with a newTag")
        }
        let tagPath = [nameAt.path[0], nameAt.path[1], .key("newTag")]
        guard let tag = locations.first(where: { $0.document == 0 && $0.path == tagPath }) else {
            throw PromoteError(file: file, field: YAML.pathText(tagPath), message: "the '\(name)' entry has no newTag to move; give it one (e.g. newTag: latest)")
        }
        return tag
    }

    /// The weight ops of the weights file: each `replace` of `/spec/http/H/route/R/weight`.
    private func weightOps(_ text: String) throws(PromoteError) -> [(op: Int, http: Int, route: Int, weight: Int)] {
        let locations: [YAMLScalarLocation]
        do { locations = try YAML.scalarLocations(text, file: weightsPath) } catch { throw PromoteError(file: weightsPath, message: "\(error)") }
        var out: [(Int, Int, Int, Int)] = []
        for location in locations where location.path.count == 2 && location.path[1] == .key("path") {
            guard case .index(let op) = location.path[0] else { continue }
            let parts = location.text.split(separator: "/").map(String.init)
            guard parts.count == 6, parts[0] == "spec", parts[1] == "http", parts[3] == "route", parts[5] == "weight",
                let h = Int(parts[2]), let r = Int(parts[4])
            else { continue }
            let kind = locations.first { $0.path == [.index(op), .key("op")] }?.text
            guard kind == "replace" || kind == "add" else { continue }
            guard let valueText = locations.first(where: { $0.path == [.index(op), .key("value")] })?.text, let w = Int(valueText) else {
                throw PromoteError(file: weightsPath, field: "[\(op)].value", message: "a weight must be an integer")
            }
            out.append((op, h, r, w))
        }
        return out
    }

    /// Renders the environment, with some files replaced.
    public func render(overrides: [String: [UInt8]] = [:]) throws(PromoteError) -> [Value] {
        let fs = OverlayFileSystem(overrides: Dictionary(uniqueKeysWithValues: overrides.map { (root + "/" + $0.key, $0.value) }))
        do {
            return try Kustomizer(fileSystem: fs).build(root + "/" + path).map(\.object)
        } catch {
            throw PromoteError(message: "environment \(environment) does not render: \(error)")
        }
    }

    /// The canary as the tree has it.
    public func state(rendered: [Value]? = nil, overrides: [String: [UInt8]] = [:]) throws(PromoteError) -> CanaryState {
        let file = kustomizationFile
        let kustomization = try text(file, overrides: overrides)
        let locations: [YAMLScalarLocation]
        do { locations = try YAML.scalarLocations(kustomization, file: file) } catch { throw PromoteError(file: file, message: "\(error)") }
        let stable = try tagLocation(policy.image, in: locations, file: file).text
        let canary = try tagLocation(policy.canaryImage, in: locations, file: file).text
        let objects: [Value]
        if let rendered { objects = rendered } else { objects = try render(overrides: overrides) }
        var weight: Int?
        if let vs = objects.first(where: { $0["kind"] == "VirtualService" && $0.name == policy.virtualService }) {
            weight = 0
            for http in vs[path: ["spec", "http"]]?.listValue ?? [] {
                for route in http["route"]?.listValue ?? [] where route[path: ["destination", "subset"]]?.stringValue == policy.canarySubset {
                    weight = max(weight ?? 0, route["weight"]?.intValue ?? 100)
                }
            }
        }
        return CanaryState(stableTag: stable, canaryTag: canary, canaryWeight: weight)
    }

    /// A tag as a container registry accepts it.
    public static func isWellFormedTag(_ tag: String) -> Bool {
        guard let first = tag.unicodeScalars.first, tag.utf8.count <= 128 else { return false }
        func word(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" }
        return word(first) && tag.unicodeScalars.allSatisfy { word($0) || $0 == "." || $0 == "-" }
    }

    /// Decides the change `action` asks for, writes it into the files and checks the result.
    ///
    /// - Parameter tag: the tag to promote (ignored by a rollback, which takes the canary's).
    /// - Throws: ``PromoteError`` saying why when the change is refused; nothing is written then.
    public func plan(_ action: PromotionAction, tag requested: String?) throws(PromoteError) -> PromotionChange {
        // The tree as it is, rendered once: its state, and which subset each weight op sets.
        let rendered = try render()
        let current = try state(rendered: rendered)
        let plan = policy.steps
        var tag = requested ?? current.canaryTag
        if action == .rollback {
            guard current.inProgress else {
                throw PromoteError(message: "\(environment): no canary of \(policy.image) to roll back (\(current.summary))")
            }
            tag = current.canaryTag
        } else {
            guard let requested else { throw PromoteError(message: "\(environment): which tag? (--image \(policy.image)=TAG)") }
            guard Self.isWellFormedTag(requested) else {
                throw PromoteError(message: "'\(requested)' is not a well-formed image tag (letters, digits, _ . -, at most 128, not starting with . or -)")
            }
            if current.inProgress && current.canaryTag != requested {
                throw PromoteError(message: "\(environment): a promotion of \(policy.image) to \(current.canaryTag) is in progress (\(current.summary)); finish it or roll it back first")
            }
            if !current.inProgress && current.stableTag == requested {
                throw PromoteError(message: "\(environment): \(policy.image) is already \(requested) (stable); nothing to promote")
            }
        }
        var kind: PromotionChange.Kind
        switch action {
        case .step(let weight):
            guard let index = plan.firstIndex(of: weight) else {
                throw PromoteError(message: "\(environment): --step \(weight) is not a step of the plan \(plan) (spec.promotion.steps)")
            }
            kind = .step(weight: weight, index: index)
        case .next:
            if current.inProgress && current.canaryWeight == nil {
                kind = .finish  // without weights the plan's steps only mark time: after the first comes the finish
            } else if let index = plan.firstIndex(where: { $0 > (current.inProgress ? current.canaryWeight ?? 0 : 0) }) {
                kind = .step(weight: plan[index], index: index)
            } else {
                kind = .finish
            }
        case .finish: kind = .finish
        case .rollback: kind = .rollback
        }
        if case .step(let weight, _) = kind, current.inProgress, let w = current.canaryWeight, w == weight {
            throw PromoteError(message: "\(environment): the canary of \(policy.image) \(tag) is already at step \(weight)")
        }
        let target: CanaryState
        switch kind {
        case .step(let weight, _): target = CanaryState(stableTag: current.stableTag, canaryTag: tag, canaryWeight: current.canaryWeight == nil ? nil : weight)
        case .finish: target = CanaryState(stableTag: tag, canaryTag: tag, canaryWeight: current.canaryWeight == nil ? nil : 0)
        case .rollback: target = CanaryState(stableTag: current.stableTag, canaryTag: current.stableTag, canaryWeight: current.canaryWeight == nil ? nil : 0)
        }
        let (edits, weightsText) = try edit(to: target, rendered: rendered)
        let files = try ValueEdit.apply(edits) { FileManager.default.contents(atPath: root + "/" + $0).map { [UInt8]($0) } }
        let change = PromotionChange(
            environment: environment, image: policy.image, kind: kind, from: current, to: target, tag: tag, edits: edits, files: files,
            weightsText: weightsText, plan: plan)
        try validate(change)
        return change
    }

    /// The values to move for the target's tags and weights.
    /// - Parameter rendered: the environment as the tree renders it now.
    func edit(to target: CanaryState, rendered: [Value]) throws(PromoteError) -> (edits: [ValueEdit], weights: String) {
        var edits: [ValueEdit] = []
        let file = kustomizationFile
        let kustomization = try text(file)
        let locations: [YAMLScalarLocation]
        do { locations = try YAML.scalarLocations(kustomization, file: file) } catch { throw PromoteError(file: file, message: "\(error)") }
        let stable = try tagLocation(policy.image, in: locations, file: file)
        let canary = try tagLocation(policy.canaryImage, in: locations, file: file)
        if canary.text != target.canaryTag { edits.append(ValueEdit(file: file, path: canary.path, old: canary.text, new: .string(target.canaryTag))) }
        if stable.text != target.stableTag { edits.append(ValueEdit(file: file, path: stable.path, old: stable.text, new: .string(target.stableTag))) }
        guard let canaryWeight = target.canaryWeight else { return (edits, "n/a (no VirtualService)") }
        guard FileManager.default.fileExists(atPath: root + "/" + weightsPath) else {
            return (edits + (try createWeights(canaryWeight: canaryWeight, kustomization: file, rendered: rendered)), weightsText(canaryWeight))
        }
        let ops = try weightOps(try text(weightsPath))
        guard !ops.isEmpty else {
            throw PromoteError(file: weightsPath, message: "no `replace` of /spec/http/H/route/R/weight: nothing says where the weights are")
        }
        // Which subset each op weighs: read from the rendered VirtualService at the op's route.
        guard let vs = rendered.first(where: { $0["kind"] == "VirtualService" && $0.name == policy.virtualService }) else {
            throw PromoteError(file: weightsPath, message: "the environment renders no VirtualService \(policy.virtualService)")
        }
        for op in ops {
            let subset = vs[path: ["spec", "http"]]?.listValue?[safe: op.http]?["route"]?.listValue?[safe: op.route]?[path: ["destination", "subset"]]?.stringValue
            let weight: Int
            switch subset {
            case policy.canarySubset?: weight = canaryWeight
            case policy.stableSubset?: weight = 100 - canaryWeight
            default:
                throw PromoteError(
                    file: weightsPath, field: "[\(op.op)].path",
                    message: "/spec/http/\(op.http)/route/\(op.route) routes to subset '\(subset ?? "none")', neither '\(policy.stableSubset)' nor '\(policy.canarySubset)'")
            }
            if weight != op.weight {
                edits.append(ValueEdit(file: weightsPath, path: [.index(op.op), .key("value")], old: String(op.weight), new: .int(weight)))
            }
        }
        return (edits, weightsText(canaryWeight))
    }

    private func weightsText(_ canaryWeight: Int) -> String { "\(policy.stableSubset)=\(100 - canaryWeight),\(policy.canarySubset)=\(canaryWeight)" }

    /// The first promotion of an environment without a weights file: the file, written from the
    /// rendered VirtualService (a `test` of each route's subset, then its weight), and its entry in
    /// the kustomization's `patches`.
    func createWeights(canaryWeight: Int, kustomization: String, rendered: [Value]) throws(PromoteError) -> [ValueEdit] {
        guard let vs = rendered.first(where: { $0["kind"] == "VirtualService" && $0.name == policy.virtualService }) else {
            throw PromoteError(file: weightsPath, message: "missing, and the environment renders no VirtualService \(policy.virtualService) to write it for")
        }
        var ops = ""
        for (h, http) in (vs[path: ["spec", "http"]]?.listValue ?? []).enumerated() {
            let routes = http["route"]?.listValue ?? []
            let subsets = routes.map { $0[path: ["destination", "subset"]]?.stringValue }
            guard subsets.contains(policy.stableSubset), subsets.contains(policy.canarySubset) else { continue }
            for (r, subset) in subsets.enumerated() {
                guard let subset, subset == policy.stableSubset || subset == policy.canarySubset else { continue }
                let weight = subset == policy.canarySubset ? canaryWeight : 100 - canaryWeight
                ops += "- op: test\n  path: /spec/http/\(h)/route/\(r)/destination/subset\n  value: \(subset)\n"
                ops += "- op: replace\n  path: /spec/http/\(h)/route/\(r)/weight\n  value: \(weight)\n"
            }
        }
        guard !ops.isEmpty else {
            throw PromoteError(
                file: weightsPath,
                message: "missing, and no route of VirtualService \(policy.virtualService) splits between subsets '\(policy.stableSubset)' and '\(policy.canarySubset)'")
        }
        let header = """
            # The canary weights of \(policy.virtualService) in this environment, moved by `tai-gitops promote` and
            # `tai-gitops rollback`. Each `test` pins a route to its subset, so a reordered VirtualService
            # fails the render instead of sending traffic to the wrong pods.

            """
        let entry = "- path: \(policy.weightsFile)\n  target:\n    kind: VirtualService\n    name: \(policy.virtualService)\n"
        return [
            ValueEdit(file: weightsPath, operation: .create(content: header + ops)),
            ValueEdit(file: kustomization, operation: .appendToList(key: "patches", item: entry)),
        ]
    }

    /// Checks the changed tree: it renders, its VirtualService's weights sum to 100 on every route,
    /// each subset exists in the DestinationRule and selects the pods it should, the tags arrived.
    public func validate(_ change: PromotionChange) throws(PromoteError) {
        let objects = try render(overrides: change.files)
        let state = try self.state(rendered: objects, overrides: change.files)
        guard state == change.to else {
            throw PromoteError(message: "\(environment): after the edit the tree reads \(state.summary), not \(change.to.summary) (does a patch override the weights or tags?)")
        }
        func deployment(_ name: String) -> Value? { objects.first { $0["kind"] == "Deployment" && $0.name == name } }
        func podLabels(_ d: Value) -> [String: String] {
            (d[path: ["spec", "template", "metadata", "labels"]]?.mapValue ?? [:]).reduce(into: [:]) { $0[$1.key] = $1.value.stringValue ?? "" }
        }
        func tagOf(_ d: Value) -> String? {
            guard let image = d[path: ["spec", "template", "spec", "containers"]]?.listValue?.first?["image"]?.stringValue else { return nil }
            let tag = ImageOverride.components(of: image).tag
            return tag.isEmpty ? "latest" : tag
        }
        let canaryName = policy.canaryDeployment
        if let canary = deployment(canaryName), let tag = tagOf(canary), tag != change.to.canaryTag {
            throw PromoteError(message: "\(environment): Deployment \(canaryName) renders with tag \(tag), not \(change.to.canaryTag) (is its image named \(policy.canaryImage) in `images`?)")
        }
        guard let vs = objects.first(where: { $0["kind"] == "VirtualService" && $0.name == policy.virtualService }) else { return }
        let rule = objects.first { $0["kind"] == "DestinationRule" && $0.name == policy.destinationRule }
        var subsets: [String: [String: String]] = [:]
        for subset in rule?[path: ["spec", "subsets"]]?.listValue ?? [] {
            guard let name = subset["name"]?.stringValue else { continue }
            subsets[name] = (subset["labels"]?.mapValue ?? [:]).reduce(into: [:]) { $0[$1.key] = $1.value.stringValue ?? "" }
        }
        for (h, http) in (vs[path: ["spec", "http"]]?.listValue ?? []).enumerated() {
            let routes = http["route"]?.listValue ?? []
            let total = routes.reduce(0) { $0 + ($1["weight"]?.intValue ?? (routes.count == 1 ? 100 : 0)) }
            guard total == 100 else {
                throw PromoteError(message: "\(environment): VirtualService \(policy.virtualService) spec.http[\(h)] weights sum to \(total), not 100")
            }
            for route in routes {
                guard let subset = route[path: ["destination", "subset"]]?.stringValue else { continue }
                guard rule != nil else {
                    throw PromoteError(message: "\(environment): VirtualService \(policy.virtualService) routes to subset '\(subset)' but the environment renders no DestinationRule \(policy.destinationRule)")
                }
                guard let labels = subsets[subset] else {
                    throw PromoteError(message: "\(environment): subset '\(subset)' of VirtualService \(policy.virtualService) is not in DestinationRule \(policy.destinationRule) (it has \(subsets.keys.sorted()))")
                }
                if subset == policy.canarySubset, let canary = deployment(canaryName) {
                    let pods = podLabels(canary)
                    guard labels.allSatisfy({ pods[$0.key] == $0.value }) else {
                        throw PromoteError(message: "\(environment): subset '\(subset)' (\(labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))) selects no pod of Deployment \(canaryName)")
                    }
                }
                if subset == policy.stableSubset, let canary = deployment(canaryName), labels.allSatisfy({ podLabels(canary)[$0.key] == $0.value }) {
                    throw PromoteError(message: "\(environment): subset '\(subset)' also selects the canary's pods (Deployment \(canaryName)): the weights would not split traffic")
                }
            }
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
