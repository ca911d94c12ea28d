import TaiCore

/// An `images` entry of a kustomization.
public struct ImageOverride: Sendable, Equatable {
    public var name: String
    public var newName: String?
    public var newTag: String?
    public var digest: String?

    /// An image reference's name, tag and digest (`registry:5000/repo/name:tag@digest`; empty
    /// where absent), split as the images transformer splits it.
    public static func components(of image: String) -> (name: String, tag: String, digest: String) {
        ImageUpdater.split(image)
    }
}

/// A `labels` entry: label pairs and where they go.
public struct LabelSet: Sendable {
    public var pairs: [(key: String, value: String)]
    public var includeSelectors: Bool
    public var includeTemplates: Bool
    /// Extra places given in the entry's `fields`.
    var fields: [FieldSpec]
}

/// A `patches`, `patchesStrategicMerge` or `patchesJson6902` entry, not yet loaded.
struct PatchSpec: Sendable {
    enum Kind: Sendable { case any, strategicMerge, json6902 }
    var kind: Kind
    var field: String
    /// A file relative to the kustomization, or nil for an inline patch.
    var path: String?
    var inline: String?
    var target: Selector?
    var allowNameChange = false
    var allowKindChange = false
}

/// The output order `sortOptions` asks for.
enum SortOrder: Sendable, Equatable {
    case fifo
    case legacy(first: [String], last: [String])
}

/// A `replicas` entry.
public struct ReplicaOverride: Sendable, Equatable {
    public var name: String
    public var count: Int
}

/// The fields of a `kustomization.yaml` that tai-gitops reads, checked as strictly as
/// kustomize checks them.
public struct Kustomization: Sendable {
    /// The kustomization file itself.
    public var file: String
    /// The directory the kustomization lives in; relative paths start here.
    public var directory: String
    public var resources: [String] = []
    public var components: [String] = []
    /// Whether this is a `kind: Component` (applied to its includer's resources).
    public var isComponent = false
    public var namespace: String?
    public var namePrefix: String?
    public var nameSuffix: String?
    public var commonLabels: [(key: String, value: String)] = []
    public var commonAnnotations: [(key: String, value: String)] = []
    public var images: [ImageOverride] = []
    public var labels: [LabelSet] = []
    public var replicas: [ReplicaOverride] = []
    var generators: [GeneratorArgs] = []
    /// `replacements` entries as written: inline ones, or `path:` to a file of them.
    var replacementEntries: [(field: String, value: Value)] = []
    /// `buildMetadata` (the top kustomization's applies to the whole build, as in kustomize).
    var originAnnotations = false
    var managedByLabel = false
    /// `sortOptions` (honoured only at the top, as kustomize does): nil for the default order.
    var sortOrder: SortOrder?
    var generatorOptions: GeneratorOptions?
    /// Deprecated fields in use, worded as kustomize words its warnings.
    public var deprecations: [String] = []

    /// The file names kustomize accepts, in the order it looks for them.
    public static let fileNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"]

    /// Fields kustomize v5.5.0 accepts that this renderer does not implement yet. Meeting one
    /// is an error that names it: silently ignoring it would render something else.
    static let unsupportedFields: Set<String> = [
         "crds", "vars",
        "helmCharts", "helmGlobals", "helmChartInflationGenerator", "generators", "transformers",
        "validators", "openapi", "configurations", "metadata",
    ]

    var patches: [PatchSpec] = []

    static let supportedFields: Set<String> = [
        "apiVersion", "kind", "resources", "bases", "namespace", "namePrefix", "nameSuffix",
        "commonLabels", "commonAnnotations", "images", "labels", "replicas", "configMapGenerator",
        "secretGenerator", "generatorOptions", "components", "patches", "patchesStrategicMerge", "patchesJson6902",
        "sortOptions", "replacements", "buildMetadata",
    ]

    /// Reads a kustomization from its parsed YAML.
    init(parsing value: Value, file: String) throws(RenderError) {
        self.file = file
        self.directory = Path.directory(of: file)
        guard case .map(let fields) = value else {
            if value.isNull { throw RenderError(path: file, message: "kustomization.yaml is empty") }
            throw RenderError(path: file, message: "a kustomization must be a map, found a \(value.typeName)")
        }
        if fields.keys.allSatisfy({ $0 == "apiVersion" || $0 == "kind" }) {
            throw RenderError(path: file, message: "kustomization.yaml is empty (it has no field besides apiVersion and kind)")
        }
        for key in fields.keys {
            if Self.unsupportedFields.contains(key) {
                throw RenderError(
                    path: file, field: key,
                    message: "is a kustomize feature tai-gitops does not support yet; refusing to render without it")
            }
            if !Self.supportedFields.contains(key) {
                throw RenderError(path: file, field: key, message: "unknown field in Kustomization")
            }
        }
        switch try Self.string(fields["kind"], "kind", file) {
        case nil, "", "Kustomization"?: break
        case "Component"?: isComponent = true
        case let kind?:
            throw RenderError(path: file, field: "kind", message: "unknown kind '\(kind)' (expected Kustomization or Component)")
        }
        if let apiVersion = try Self.string(fields["apiVersion"], "apiVersion", file),
            !apiVersion.hasPrefix("kustomize.config.k8s.io/")
        {
            throw RenderError(path: file, field: "apiVersion", message: "unknown apiVersion '\(apiVersion)'")
        }
        for (field, replacement) in [
            ("commonLabels", "labels"), ("bases", "resources"), ("patchesJson6902", "patches"),
            ("patchesStrategicMerge", "patches"),
        ] where fields[field] != nil {
            deprecations.append(
                "'\(field)' is deprecated. Please use '\(replacement)' instead. Run 'kustomize edit fix' to update your Kustomization automatically.")
        }
        resources = try Self.strings(fields["resources"], "resources", file)
            + Self.strings(fields["bases"], "bases", file)
        components = try Self.strings(fields["components"], "components", file)
        namespace = try Self.string(fields["namespace"], "namespace", file)
        namePrefix = try Self.string(fields["namePrefix"], "namePrefix", file)
        nameSuffix = try Self.string(fields["nameSuffix"], "nameSuffix", file)
        commonLabels = try Self.stringMap(fields["commonLabels"], "commonLabels", file)
        commonAnnotations = try Self.stringMap(fields["commonAnnotations"], "commonAnnotations", file)
        try parseLabelsAndReplicas(fields, file: file)
        try parseGenerators(fields, file: file)
        try parsePatches(fields, file: file)
        for (i, option) in try Self.strings(fields["buildMetadata"], "buildMetadata", file).enumerated() {
            switch option {
            case "originAnnotations": originAnnotations = true
            case "managedByLabel": managedByLabel = true
            case "transformerAnnotations":
                throw RenderError(
                    path: file, field: "buildMetadata[\(i)]",
                    message: "'transformerAnnotations' is a kustomize feature tai-gitops does not support yet; refusing to render without it")
            default:
                throw RenderError(
                    path: file, field: "buildMetadata[\(i)]",
                    message: "unknown option '\(option)' (originAnnotations, transformerAnnotations or managedByLabel)")
            }
        }
        replacementEntries = try Self.list(fields["replacements"], "replacements", file).enumerated().map {
            ("replacements[\($0.offset)]", $0.element)
        }
        if let options = fields["sortOptions"], !options.isNull {
            let m = try Self.map(options, "sortOptions", file, allowed: ["order", "legacySortOptions"])
            switch try Self.string(m["order"], "sortOptions.order", file) {
            case "fifo"?:
                if m["legacySortOptions"] != nil {
                    throw RenderError(path: file, field: "sortOptions", message: "legacySortOptions only goes with order 'legacy'")
                }
                sortOrder = .fifo
            case "legacy"?:
                var first = LegacyOrder.first
                var last = LegacyOrder.last
                if let legacy = m["legacySortOptions"], !legacy.isNull {
                    let l = try Self.map(legacy, "sortOptions.legacySortOptions", file, allowed: ["orderFirst", "orderLast"])
                    first = try Self.strings(l["orderFirst"], "sortOptions.legacySortOptions.orderFirst", file)
                    last = try Self.strings(l["orderLast"], "sortOptions.legacySortOptions.orderLast", file)
                }
                sortOrder = .legacy(first: first, last: last)
            case let other:
                throw RenderError(
                    path: file, field: "sortOptions.order", message: "unknown order '\(other ?? "")' (legacy or fifo)")
            }
        }
        if let images = fields["images"], !images.isNull {
            guard case .list(let entries) = images else {
                throw RenderError(path: file, field: "images", message: "expected a list, found a \(images.typeName)")
            }
            for (i, entry) in entries.enumerated() {
                let field = "images[\(i)]"
                guard case .map(let m) = entry else {
                    throw RenderError(path: file, field: field, message: "expected a map, found a \(entry.typeName)")
                }
                for key in m.keys where !["name", "newName", "newTag", "digest", "tagSuffix"].contains(key) {
                    throw RenderError(path: file, field: "\(field).\(key)", message: "unknown field in image")
                }
                if m["tagSuffix"] != nil {
                    throw RenderError(path: file, field: "\(field).tagSuffix", message: "is not supported yet")
                }
                self.images.append(
                    ImageOverride(
                        name: try Self.string(m["name"], "\(field).name", file) ?? "",
                        newName: try Self.string(m["newName"], "\(field).newName", file),
                        newTag: try Self.string(m["newTag"], "\(field).newTag", file),
                        digest: try Self.string(m["digest"], "\(field).digest", file)))
            }
        }
    }

    private mutating func parseLabelsAndReplicas(_ fields: ValueMap, file: String) throws(RenderError) {
        for (i, entry) in try Self.list(fields["labels"], "labels", file).enumerated() {
            let field = "labels[\(i)]"
            let m = try Self.map(entry, field, file, allowed: ["pairs", "includeSelectors", "includeTemplates", "fields"])
            var specs: [FieldSpec] = []
            for (j, spec) in try Self.list(m["fields"], "\(field).fields", file).enumerated() {
                let specField = "\(field).fields[\(j)]"
                let f = try Self.map(spec, specField, file, allowed: ["path", "group", "version", "kind", "create"])
                guard let path = try Self.string(f["path"], "\(specField).path", file) else {
                    throw RenderError(path: file, field: "\(specField).path", message: "a field spec needs a path")
                }
                specs.append(
                    FieldSpec(
                        path, group: try Self.string(f["group"], "\(specField).group", file),
                        version: try Self.string(f["version"], "\(specField).version", file),
                        kind: try Self.string(f["kind"], "\(specField).kind", file),
                        create: try Self.bool(f["create"], "\(specField).create", file)))
            }
            labels.append(
                LabelSet(
                    pairs: try Self.stringMap(m["pairs"], "\(field).pairs", file),
                    includeSelectors: try Self.bool(m["includeSelectors"], "\(field).includeSelectors", file),
                    includeTemplates: try Self.bool(m["includeTemplates"], "\(field).includeTemplates", file),
                    fields: specs))
        }
        for (i, entry) in try Self.list(fields["replicas"], "replicas", file).enumerated() {
            let field = "replicas[\(i)]"
            let m = try Self.map(entry, field, file, allowed: ["name", "count"])
            guard let name = try Self.string(m["name"], "\(field).name", file) else {
                throw RenderError(path: file, field: "\(field).name", message: "a replicas entry needs a name")
            }
            guard case .int(let count)? = m["count"] else {
                throw RenderError(path: file, field: "\(field).count", message: "expected an integer count, found \(m["count"]?.typeName ?? "nothing")")
            }
            replicas.append(ReplicaOverride(name: name, count: count))
        }
    }

    private mutating func parseGenerators(_ fields: ValueMap, file: String) throws(RenderError) {
        if let options = fields["generatorOptions"], !options.isNull {
            generatorOptions = try Self.generatorOptions(options, "generatorOptions", file)
        }
        for (kind, key) in [(GeneratorArgs.Kind.configMap, "configMapGenerator"), (.secret, "secretGenerator")] {
            for (i, entry) in try Self.list(fields[key], key, file).enumerated() {
                let field = "\(key)[\(i)]"
                var allowed: Set<String> = ["name", "namespace", "behavior", "literals", "files", "envs", "env", "options"]
                if kind == .secret { allowed.insert("type") }
                let m = try Self.map(entry, field, file, allowed: allowed)
                guard let name = try Self.string(m["name"], "\(field).name", file), !name.isEmpty else {
                    throw RenderError(path: file, field: "\(field).name", message: "a generator needs a name")
                }
                let writtenBehavior = try Self.string(m["behavior"], "\(field).behavior", file)
                let behaviorText = writtenBehavior ?? "create"
                guard let behavior = GeneratorBehavior(rawValue: behaviorText.isEmpty ? "create" : behaviorText) else {
                    throw RenderError(
                        path: file, field: "\(field).behavior", message: "unknown behavior '\(behaviorText)' (create, merge or replace)")
                }
                var envs = try Self.strings(m["envs"], "\(field).envs", file)
                if let env = try Self.string(m["env"], "\(field).env", file), !env.isEmpty { envs.insert(env, at: 0) }
                generators.append(
                    GeneratorArgs(
                        kind: kind, field: field, name: name, namespace: try Self.string(m["namespace"], "\(field).namespace", file),
                        behavior: behavior, literals: try Self.strings(m["literals"], "\(field).literals", file),
                        files: try Self.strings(m["files"], "\(field).files", file), envs: envs,
                        type: try Self.string(m["type"], "\(field).type", file),
                        options: try m["options"].map { v throws(RenderError) in try Self.generatorOptions(v, "\(field).options", file) }))
                generators[generators.count - 1].behaviorNote = writtenBehavior.flatMap { $0.isEmpty ? nil : $0 } ?? "unspecified"
            }
        }
    }

    private static func generatorOptions(_ value: Value, _ field: String, _ file: String) throws(RenderError) -> GeneratorOptions {
        let m = try map(value, field, file, allowed: ["labels", "annotations", "disableNameSuffixHash", "immutable"])
        return GeneratorOptions(
            labels: try stringMap(m["labels"], "\(field).labels", file),
            annotations: try stringMap(m["annotations"], "\(field).annotations", file),
            disableNameSuffixHash: try bool(m["disableNameSuffixHash"], "\(field).disableNameSuffixHash", file),
            immutable: try bool(m["immutable"], "\(field).immutable", file))
    }

    private mutating func parsePatches(_ fields: ValueMap, file: String) throws(RenderError) {
        for (i, entry) in try Self.list(fields["patchesStrategicMerge"], "patchesStrategicMerge", file).enumerated() {
            let field = "patchesStrategicMerge[\(i)]"
            guard case .string(let text) = entry else {
                throw RenderError(path: file, field: field, message: "expected a file name or an inline patch, found a \(entry.typeName)")
            }
            // kustomize takes a one-line entry as a file, anything longer as the patch itself.
            let isInline = text.contains("\n")
            patches.append(PatchSpec(kind: .strategicMerge, field: field, path: isInline ? nil : text, inline: isInline ? text : nil))
        }
        for (i, entry) in try Self.list(fields["patches"], "patches", file).enumerated() {
            let field = "patches[\(i)]"
            let m = try Self.map(entry, field, file, allowed: ["path", "patch", "target", "options"])
            var spec = try patchSource(m, kind: .any, field: field, file: file)
            if let options = m["options"] {
                let o = try Self.map(options, "\(field).options", file, allowed: ["allowNameChange", "allowKindChange"])
                spec.allowNameChange = try Self.bool(o["allowNameChange"], "\(field).options.allowNameChange", file)
                spec.allowKindChange = try Self.bool(o["allowKindChange"], "\(field).options.allowKindChange", file)
            }
            patches.append(spec)
        }
        for (i, entry) in try Self.list(fields["patchesJson6902"], "patchesJson6902", file).enumerated() {
            let field = "patchesJson6902[\(i)]"
            let m = try Self.map(entry, field, file, allowed: ["path", "patch", "target"])
            let spec = try patchSource(m, kind: .json6902, field: field, file: file)
            guard spec.target != nil else {
                throw RenderError(path: file, field: "\(field).target", message: "a JSON 6902 patch needs a target")
            }
            patches.append(spec)
        }
    }

    private func patchSource(_ m: ValueMap, kind: PatchSpec.Kind, field: String, file: String) throws(RenderError) -> PatchSpec {
        let path = try Self.string(m["path"], "\(field).path", file)
        let inline = try Self.string(m["patch"], "\(field).patch", file)
        if path != nil && inline != nil {
            throw RenderError(path: file, field: field, message: "a patch takes either 'path' or 'patch', not both")
        }
        if path == nil && inline == nil {
            throw RenderError(path: file, field: field, message: "a patch needs 'path' or 'patch'")
        }
        var target: Selector?
        if let t = m["target"], !t.isNull {
            let tm = try Self.map(
                t, "\(field).target", file,
                allowed: ["group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"])
            func s(_ key: String) throws(RenderError) -> String? { try Self.string(tm[key], "\(field).target.\(key)", file) }
            target = Selector(
                group: try s("group"), version: try s("version"), kind: try s("kind"), name: try s("name"),
                namespace: try s("namespace"), labelSelector: try s("labelSelector"), annotationSelector: try s("annotationSelector"))
        }
        return PatchSpec(kind: kind, field: field, path: path, inline: inline, target: target)
    }

    static func list(_ value: Value?, _ field: String, _ file: String) throws(RenderError) -> [Value] {
        switch value {
        case nil, .null?: return []
        case .list(let items)?: return items
        case let other?: throw RenderError(path: file, field: field, message: "expected a list, found a \(other.typeName)")
        }
    }

    static func map(_ value: Value, _ field: String, _ file: String, allowed: Set<String>) throws(RenderError) -> ValueMap {
        guard case .map(let m) = value else {
            throw RenderError(path: file, field: field, message: "expected a map, found a \(value.typeName)")
        }
        for key in m.keys where !allowed.contains(key) {
            throw RenderError(path: file, field: "\(field).\(key)", message: "unknown field")
        }
        return m
    }

    static func bool(_ value: Value?, _ field: String, _ file: String) throws(RenderError) -> Bool {
        switch value {
        case nil, .null?: return false
        case .bool(let b)?: return b
        case let other?: throw RenderError(path: file, field: field, message: "expected true or false, found a \(other.typeName)")
        }
    }

    static func string(_ value: Value?, _ field: String, _ file: String) throws(RenderError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case let other?:
            throw RenderError(
                path: file, field: field,
                message: "expected a string, found a \(other.typeName) (quote it, e.g. \"\(describe(other))\")")
        }
    }

    static func strings(_ value: Value?, _ field: String, _ file: String) throws(RenderError) -> [String] {
        switch value {
        case nil, .null?: return []
        case .list(let items)?:
            var out: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item else {
                    throw RenderError(path: file, field: "\(field)[\(i)]", message: "expected a string, found a \(item.typeName)")
                }
                out.append(s)
            }
            return out
        case let other?:
            throw RenderError(path: file, field: field, message: "expected a list of strings, found a \(other.typeName)")
        }
    }

    static func stringMap(_ value: Value?, _ field: String, _ file: String) throws(RenderError) -> [(key: String, value: String)] {
        switch value {
        case nil, .null?: return []
        case .map(let m)?:
            var out: [(key: String, value: String)] = []
            for (key, item) in m {
                switch item {
                case .string(let s): out.append((key, s))
                case .null: out.append((key, ""))
                default:
                    throw RenderError(
                        path: file, field: "\(field).\(key)",
                        message: "expected a string, found a \(item.typeName) (quote it, e.g. \"\(describe(item))\")")
                }
            }
            return out
        case let other?:
            throw RenderError(path: file, field: field, message: "expected a map of strings, found a \(other.typeName)")
        }
    }

    private static func describe(_ value: Value) -> String {
        switch value {
        case .int(let i): String(i)
        case .uint(let u): String(u)
        case .double(let d): d.description
        case .bool(let b): b ? "true" : "false"
        default: "..."
        }
    }
}
