import TaiCore
import TaiYAML

/// Renders a kustomization directory the way `kustomize build` does.
///
/// One front over the whole engine: load the kustomization, accumulate its resources (files and
/// nested kustomizations), run its transformers, and — at the top only — fix name references and
/// sort. The file system is injected, so tests render from memory.
public struct Kustomizer: Sendable {
    public let fileSystem: any RenderFileSystem
    /// Receives kustomize's warnings (deprecated fields), one per kustomization that uses them.
    public var onWarning: (@Sendable (String) -> Void)?

    public init(fileSystem: any RenderFileSystem = LocalFileSystem(), onWarning: (@Sendable (String) -> Void)? = nil) {
        self.fileSystem = fileSystem
        self.onWarning = onWarning
    }

    /// The objects `directory` renders to, in kustomize's output order.
    public func build(_ directory: String) throws(RenderError) -> [Resource] {
        let root = Path.normalize(directory)
        let top = try topKustomization(root)
        let context = BuildContext(
            shared: SharedValues(), root: root, originAnnotations: top?.originAnnotations ?? false,
            tracksOrigin: top.map { $0.originAnnotations || $0.managedByLabel } ?? false)
        var resources: [Resource] = []
        try accumulateTarget(root, stack: [], into: &resources, asComponent: false, context: context, parsed: top)
        addHashSuffixes(&resources)
        try NameReferences.fix(&resources)
        if top?.managedByLabel == true {
            for i in resources.indices {
                resources[i].object.set(path: ["metadata", "labels", "app.kubernetes.io/managed-by"], to: "kustomize-(devel)")
            }
        }
        try Annotations.finish(&resources, keepOrigin: top?.originAnnotations ?? false)
        switch top?.sortOrder {
        case .fifo?: return resources
        case .legacy(let first, let last)?: return LegacyOrder.sorted(resources, rank: LegacyOrder.rank(first: first, last: last))
        case nil: return LegacyOrder.sorted(resources)
        }
    }

    /// The top kustomization, whose `sortOptions` and `buildMetadata` rule the whole build
    /// (nil when the directory is missing; the build reports that).
    private func topKustomization(_ root: String) throws(RenderError) -> Kustomization? {
        guard fileSystem.isDirectory(root) else { return nil }
        let file = try kustomizationFile(in: root)
        return try Kustomization(parsing: parseSingleDocument(file), file: file)
    }

    /// What every level of one build shares.
    struct BuildContext {
        let shared: SharedValues
        /// The top directory: origin annotations are written relative to it.
        let root: String
        let originAnnotations: Bool
        /// Whether the top kustomization has any `buildMetadata`: kustomize then notes on every
        /// object each transformer that ran (removing the notes at the end unless asked to keep
        /// them), and writing a note writes the object's annotations as strings of their text.
        let tracksOrigin: Bool

        /// After a transformer ran: with origins tracked, every object's annotations are strings now.
        func noteTransformation(_ resources: inout [Resource]) {
            guard tracksOrigin else { return }
            for i in resources.indices where !resources[i].annotationTexts.isEmpty || resources[i].object[path: Annotations.path] != nil {
                Annotations.set(
                    Annotations.stringMap(of: resources[i].object, texts: resources[i].annotationTexts, keepOrigin: true),
                    on: &resources[i].object)
                resources[i].annotationTexts.removeAll()
            }
        }

        /// kustomize's `config.kubernetes.io/origin` for an object read from `file`.
        func mark(_ resources: inout [Resource], from file: String) {
            guard originAnnotations else { return }
            for i in resources.indices {
                resources[i].object.set(
                    path: ["metadata", "annotations", "config.kubernetes.io/origin"],
                    to: .string("path: \(Path.relativePath(from: root, to: file))\n"))
            }
        }

        /// The origin of an object a generator of `kustomizationFile` made.
        func markGenerated(_ resource: inout Resource, by kind: String, in kustomizationFile: String) {
            guard originAnnotations else { return }
            setConfiguredOrigin(&resource.object, by: kind, in: kustomizationFile)
        }

        /// After a transformer ran: an object whose origin annotation it removed (a patch that
        /// replaced the annotations) gets the transformer as its origin, as kustomize does.
        func restoreOrigin(_ object: inout Value, before: Value, by kind: String, in kustomizationFile: String) {
            let path = ["metadata", "annotations", "config.kubernetes.io/origin"]
            guard originAnnotations, before[path: path] != nil, object[path: path] == nil else { return }
            setConfiguredOrigin(&object, by: kind, in: kustomizationFile)
        }

        private func setConfiguredOrigin(_ object: inout Value, by kind: String, in kustomizationFile: String) {
            object.set(
                path: ["metadata", "annotations", "config.kubernetes.io/origin"],
                to: .string(
                    "configuredIn: \(Path.relativePath(from: root, to: kustomizationFile))\nconfiguredBy:\n  apiVersion: builtin\n  kind: \(kind)\n"))
        }
    }

    /// What `kustomize build directory` prints.
    public func render(_ directory: String) throws(RenderError) -> String {
        let resources = try build(directory)
        return YAML.emitDocuments(resources.map(\.object), style: .kustomize)
    }

    /// The kustomization file of a directory.
    func kustomizationFile(in directory: String) throws(RenderError) -> String {
        let found = Kustomization.fileNames.map { Path.join(directory, $0) }.filter {
            fileSystem.exists($0) && !fileSystem.isDirectory($0)
        }
        guard let file = found.first else {
            throw RenderError(
                path: directory,
                message: "no kustomization found: expected one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in this directory")
        }
        guard found.count == 1 else {
            throw RenderError(
                path: directory,
                message: "found multiple kustomization files (\(found.map { Path.relative($0, to: directory) }.joined(separator: ", "))); keep one")
        }
        return file
    }

    /// Builds a kustomization directory into a fresh set of resources.
    private func accumulate(_ directory: String, stack: [String], context: BuildContext) throws(RenderError) -> [Resource] {
        var resources: [Resource] = []
        try accumulateTarget(directory, stack: stack, into: &resources, asComponent: false, context: context, parsed: nil)
        return resources
    }

    /// Reads one kustomization into `resources`: its resources, its generators, then its
    /// components (each working on everything accumulated so far), then its transformers. A
    /// component adds to its includer's resources instead of starting its own.
    private func accumulateTarget(
        _ directory: String, stack: [String], into resources: inout [Resource], asComponent: Bool, context: BuildContext,
        parsed: Kustomization? = nil
    ) throws(RenderError) {
        guard fileSystem.exists(directory) else {
            throw RenderError(path: directory, message: "no such directory")
        }
        guard fileSystem.isDirectory(directory) else {
            throw RenderError(path: directory, message: "not a directory; build takes a directory that holds a kustomization")
        }
        let kustomization: Kustomization
        if let parsed {
            kustomization = parsed
        } else {
            let file = try kustomizationFile(in: directory)
            kustomization = try Kustomization(parsing: parseSingleDocument(file), file: file)
        }
        let file = kustomization.file
        for warning in kustomization.deprecations { onWarning?(warning) }
        if asComponent && !kustomization.isComponent {
            throw RenderError(path: file, field: "kind", message: "expected kind 'Component' for a directory listed in components")
        }
        if !asComponent && kustomization.isComponent && !stack.isEmpty {
            throw RenderError(path: file, field: "kind", message: "a Component must be listed in components, not in resources")
        }

        var ids = Set(resources.map(Transformers.idKey))
        func add(_ loaded: [Resource], field: String) throws(RenderError) {
            for r in loaded {
                guard ids.insert(Transformers.idKey(r)).inserted else {
                    throw RenderError(
                        path: file, field: field,
                        message: "may not add resource with an already registered id: \(r.identity) (from \(r.origin))")
                }
                resources.append(r)
            }
        }
        func checkCycle(_ path: String, field: String, entry: String) throws(RenderError) {
            if stack.contains(path) || path == directory {
                let chain = (stack + [directory, path]).map { Path.relative($0, to: Path.directory(of: stack.first ?? directory)) }
                throw RenderError(
                    path: file, field: field,
                    message: "cycle: '\(entry)' includes a kustomization that includes it (\(chain.joined(separator: " → ")))")
            }
        }

        for (i, entry) in kustomization.resources.enumerated() {
            let field = "resources[\(i)]"
            if entry.contains("://") || entry.hasPrefix("github.com/") || entry.hasPrefix("git@") {
                throw RenderError(
                    path: file, field: field,
                    message: "remote resource '\(entry)' is not supported; vendor it into the repository")
            }
            let path = Path.join(directory, entry)
            guard fileSystem.exists(path) else {
                throw RenderError(path: file, field: field, message: "'\(entry)' does not exist (looked for \(path))")
            }
            if fileSystem.isDirectory(path) {
                try checkCycle(path, field: field, entry: entry)
                try add(try accumulate(path, stack: stack + [directory], context: context), field: field)
            } else {
                guard fileSystem.isLoadable(path, within: directory) else {
                    throw RenderError(
                        path: file, field: field,
                        message: "security; file '\(path)' is not in or below '\(directory)' (kustomize's load restrictions)")
                }
                var loaded = try loadResources(path)
                context.mark(&loaded, from: path)
                try add(loaded, field: field)
            }
        }
        let generator = Generator(fileSystem: fileSystem, kustomization: kustomization)
        if !kustomization.generators.isEmpty {
            // Objects by every name they have had, so each generated object meets only its namesakes.
            var byName: [String: [Int]] = [:]
            for (i, r) in resources.enumerated() {
                for name in Set([r.name] + r.previousIDs.map(\.name)) { byName[name, default: []].append(i) }
            }
            for args in kustomization.generators {
                var generated = try generator.generate(args)
                context.markGenerated(&generated, by: args.kind == .configMap ? "ConfigMapGenerator" : "SecretGenerator", in: file)
                let before = resources.count
                try absorb(generated, into: &resources, candidates: byName[generated.name] ?? [], file: file, field: args.field)
                if resources.count > before { byName[generated.name, default: []].append(before) }
            }
        }
        // Components run after the generators, so they can merge into generated objects, and
        // before this kustomization's own transformers (kustomize PR 5170).
        for (i, entry) in kustomization.components.enumerated() {
            let field = "components[\(i)]"
            let path = Path.join(directory, entry)
            guard fileSystem.isDirectory(path) else {
                throw RenderError(path: file, field: field, message: "'\(entry)' is not a directory holding a Component")
            }
            try checkCycle(path, field: field, entry: entry)
            try accumulateTarget(path, stack: stack + [directory], into: &resources, asComponent: true, context: context)
        }
        try Transformers.apply(kustomization, to: &resources, fileSystem: fileSystem, context: context)
    }

    /// Adds a generated object: appended when new; merged into, or replacing, the object of the
    /// same identity (current or earlier) when its behavior says so.
    private func absorb(
        _ generated: Resource, into resources: inout [Resource], candidates: [Int], file: String, field: String
    ) throws(RenderError) {
        let gvk = generated.gvk
        let namespace = generated.effectiveNamespace
        // Objects generated here are new unless one of the same group, version, kind, name and
        // namespace (now or before a rename) exists among the candidates of that name.
        let matches = candidates.filter { i in
            let r = resources[i]
            guard r.gvk.group == gvk.group, r.gvk.version == gvk.version else { return false }
            if r.kind == gvk.kind && r.name == generated.name && r.effectiveNamespace == namespace { return true }
            return r.previousIDs.contains { $0.kind == gvk.kind && $0.name == generated.name && $0.namespace == namespace }
        }
        guard let index = matches.first else {
            guard generated.behavior == .create else {
                throw RenderError(
                    path: file, field: field,
                    message: "\(generated.identity) does not exist; cannot \(generated.behavior.rawValue) (behavior needs a base that generates it)")
            }
            resources.append(generated)
            return
        }
        guard matches.count == 1 else {
            throw RenderError(path: file, field: field, message: "\(generated.identity) matches several objects")
        }
        let old = resources[index]
        var merged = generated
        switch generated.behavior {
        case .create:
            throw RenderError(
                path: file, field: field,
                message: "\(generated.identity) already exists; set behavior to merge or replace")
        case .merge:
            for key in ["data", "binaryData"] {
                if let oldData = old.object[key]?.mapValue {
                    var data = oldData
                    for (k, v) in generated.object[key]?.mapValue ?? [:] { data[k] = v }
                    merged.object[key] = .map(data)
                }
            }
        case .replace:
            break
        }
        // Metadata comes from the existing object, the generated object's own labels and
        // annotations winning; so do the name, namespace, rename history and hash option.
        for key in ["labels", "annotations"] {
            var combined = old.object[path: ["metadata", key]]?.mapValue ?? [:]
            for (k, v) in generated.object[path: ["metadata", key]]?.mapValue ?? [:] { combined[k] = v }
            if !combined.isEmpty { merged.object.set(path: ["metadata", key], to: .map(combined)) }
        }
        // A merged object keeps the origin it was first read or generated with (a replaced one
        // takes the new one).
        if generated.behavior == .merge,
            let origin = old.object[path: ["metadata", "annotations", "config.kubernetes.io/origin"]]
        {
            merged.object.set(path: ["metadata", "annotations", "config.kubernetes.io/origin"], to: origin)
        }
        merged.object.set(path: ["metadata", "name"], to: .string(old.name))
        if old.namespace.isEmpty {
            if case .map(var metadata)? = merged.object["metadata"] {
                metadata["namespace"] = nil
                merged.object["metadata"] = .map(metadata)
            }
        } else {
            merged.object.set(path: ["metadata", "namespace"], to: .string(old.namespace))
        }
        merged.previousIDs = old.previousIDs
        merged.prefixes = old.prefixes
        merged.suffixes = old.suffixes
        // kustomize keeps the hash suffix only when neither side disabled it.
        merged.needsHashSuffix = old.needsHashSuffix && generated.needsHashSuffix
        merged.behavior = .create
        merged.generatorBehaviorNote = old.generatorBehaviorNote
        resources[index] = merged
    }

    /// Appends kustomize's content hash to the names of generated objects.
    private func addHashSuffixes(_ resources: inout [Resource]) {
        for i in resources.indices where resources[i].needsHashSuffix {
            let hash = NameHash.suffix(for: resources[i].object)
            resources[i].storePreviousID()
            resources[i].object.set(path: ["metadata", "name"], to: .string("\(resources[i].name)-\(hash)"))
        }
    }

    /// The largest file a render reads; a bigger one is refused rather than exhausting memory.
    public static let maxFileSize = 32 << 20

    /// Reads a kustomization file. kustomize reads those through go-yaml v2, by YAML 1.1's rules:
    /// `on`, `yes`, `y` are booleans there (so `commonLabels: {env: on}` is refused, and
    /// `disableNameSuffixHash: yes` is true).
    private func parseSingleDocument(_ file: String) throws(RenderError) -> Value {
        let documents = try parseYAMLFile(try fileSystem.read(file), path: file, rules: .yaml11)
        let nonEmpty = documents.filter { !$0.value.isNull }
        guard nonEmpty.count <= 1 else {
            throw RenderError(path: file, line: nonEmpty[1].line, message: "a kustomization file must hold one YAML document")
        }
        return nonEmpty.first?.value ?? .null
    }

    /// The objects of a resource file: every non-empty document, with `List` kinds expanded.
    func loadResources(_ path: String) throws(RenderError) -> [Resource] {
        let documents = try parseYAMLFile(try fileSystem.read(path), path: path)
        var out: [Resource] = []
        for document in documents {
            switch document.value {
            case .null:
                continue
            case .map:
                if document.value["kind"]?.stringValue?.hasSuffix("List") == true,
                    case .list(let items)? = document.value["items"]
                {
                    for object in items {
                        try validate(object, path: path, line: document.line)
                        out.append(Resource(object: object, origin: path))
                    }
                } else {
                    try validate(document.value, path: path, line: document.line)
                    out.append(Resource(document: document, origin: path))
                }
            default:
                throw RenderError(
                    path: path, line: document.line, column: 1,
                    message: "expected a Kubernetes object (a map), found a \(document.value.typeName)")
            }
        }
        return out
    }

    private func validate(_ object: Value, path: String, line: Int) throws(RenderError) {
        guard case .map = object else {
            throw RenderError(path: path, line: line, message: "expected a Kubernetes object (a map), found a \(object.typeName)")
        }
        guard case .string(let kind)? = object["kind"], !kind.isEmpty else {
            throw RenderError(path: path, line: line, message: "object has no 'kind'")
        }
        guard case .string? = object["apiVersion"] else {
            throw RenderError(path: path, line: line, message: "\(kind) has no 'apiVersion'")
        }
        guard case .string(let name)? = object[path: ["metadata", "name"]], !name.isEmpty else {
            throw RenderError(path: path, line: line, message: "\(kind) has no 'metadata.name'")
        }
    }
}
