import TaiCore

/// An `images` entry of a kustomization.
public struct ImageOverride: Sendable, Equatable {
    public var name: String
    public var newName: String?
    public var newTag: String?
    public var digest: String?
}

/// The fields of a `kustomization.yaml` that tai-gitops reads, checked as strictly as
/// kustomize checks them.
public struct Kustomization: Sendable {
    /// The kustomization file itself.
    public var file: String
    /// The directory the kustomization lives in; relative paths start here.
    public var directory: String
    public var resources: [String] = []
    public var namespace: String?
    public var namePrefix: String?
    public var nameSuffix: String?
    public var commonLabels: [(key: String, value: String)] = []
    public var commonAnnotations: [(key: String, value: String)] = []
    public var images: [ImageOverride] = []
    /// Deprecated fields in use, worded as kustomize words its warnings.
    public var deprecations: [String] = []

    /// The file names kustomize accepts, in the order it looks for them.
    public static let fileNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"]

    /// Fields kustomize v5.5.0 accepts that this renderer does not implement yet. Meeting one
    /// is an error that names it: silently ignoring it would render something else.
    static let unsupportedFields: Set<String> = [
        "patches", "patchesStrategicMerge", "patchesJson6902", "configMapGenerator", "secretGenerator",
        "generatorOptions", "components", "crds", "replicas", "replacements", "vars", "labels",
        "helmCharts", "helmGlobals", "helmChartInflationGenerator", "generators", "transformers",
        "validators", "openapi", "configurations", "sortOptions", "buildMetadata", "metadata",
    ]

    static let supportedFields: Set<String> = [
        "apiVersion", "kind", "resources", "bases", "namespace", "namePrefix", "nameSuffix",
        "commonLabels", "commonAnnotations", "images",
    ]

    /// Reads a kustomization from its parsed YAML.
    init(parsing value: Value, file: String) throws(RenderError) {
        self.file = file
        self.directory = Path.directory(of: file)
        guard case .map(let fields) = value else {
            if value.isNull { return }  // an empty kustomization is valid
            throw RenderError(path: file, message: "a kustomization must be a map, found a \(value.typeName)")
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
        if let kind = try Self.string(fields["kind"], "kind", file), kind != "Kustomization" {
            throw RenderError(
                path: file, field: "kind",
                message: "kind '\(kind)' is not supported here (expected 'Kustomization')")
        }
        if let apiVersion = try Self.string(fields["apiVersion"], "apiVersion", file),
            !apiVersion.hasPrefix("kustomize.config.k8s.io/")
        {
            throw RenderError(path: file, field: "apiVersion", message: "unknown apiVersion '\(apiVersion)'")
        }
        for (field, replacement) in [("commonLabels", "labels"), ("bases", "resources")] where fields[field] != nil {
            deprecations.append(
                "'\(field)' is deprecated. Please use '\(replacement)' instead. Run 'kustomize edit fix' to update your Kustomization automatically.")
        }
        resources = try Self.strings(fields["resources"], "resources", file)
            + Self.strings(fields["bases"], "bases", file)
        namespace = try Self.string(fields["namespace"], "namespace", file)
        namePrefix = try Self.string(fields["namePrefix"], "namePrefix", file)
        nameSuffix = try Self.string(fields["nameSuffix"], "nameSuffix", file)
        commonLabels = try Self.stringMap(fields["commonLabels"], "commonLabels", file)
        commonAnnotations = try Self.stringMap(fields["commonAnnotations"], "commonAnnotations", file)
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

    private static func string(_ value: Value?, _ field: String, _ file: String) throws(RenderError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case let other?:
            throw RenderError(
                path: file, field: field,
                message: "expected a string, found a \(other.typeName) (quote it, e.g. \"\(describe(other))\")")
        }
    }

    private static func strings(_ value: Value?, _ field: String, _ file: String) throws(RenderError) -> [String] {
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

    private static func stringMap(_ value: Value?, _ field: String, _ file: String) throws(RenderError) -> [(key: String, value: String)] {
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
        case .double(let d): d.description
        case .bool(let b): b ? "true" : "false"
        default: "..."
        }
    }
}
