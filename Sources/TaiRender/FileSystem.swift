import Foundation
import TaiYAML

/// The files a render reads. Injected so tests can render from memory and the agent from a
/// checked-out snapshot.
public protocol RenderFileSystem: Sendable {
    /// The bytes of a file, or `nil` when there is no such file.
    func contents(of path: String) -> [UInt8]?
    /// Whether `path` is a directory.
    func isDirectory(_ path: String) -> Bool
    /// Whether anything exists at `path`.
    func exists(_ path: String) -> Bool
    /// `path` with symbolic links resolved (the path itself where there are none).
    func realPath(_ path: String) -> String
}

extension RenderFileSystem {
    public func realPath(_ path: String) -> String { path }

    /// kustomize's load restriction: `path` lies in or below `root`, also once symbolic links
    /// are followed (a link may not point out of the kustomization's directory).
    public func isLoadable(_ path: String, within root: String) -> Bool {
        Path.isWithin(path, root: root) && Path.isWithin(realPath(path), root: realPath(root))
    }

    /// The bytes of a file, refusing one larger than ``Kustomizer/maxFileSize``.
    func read(_ path: String) throws(RenderError) -> [UInt8] {
        guard let bytes = contents(of: path) else {
            throw RenderError(path: path, message: "cannot read file")
        }
        guard bytes.count <= Kustomizer.maxFileSize else {
            throw RenderError(
                path: path, message: "file is \(bytes.count >> 20) MiB, more than the \(Kustomizer.maxFileSize >> 20) MiB tai-gitops reads")
        }
        return bytes
    }

    /// A file a kustomization names in `field` (a patch, a generator source, replacements):
    /// under the load restrictions and the size limit, with errors that name the field.
    func read(_ relative: String, namedBy k: Kustomization, field: String) throws(RenderError) -> (path: String, bytes: [UInt8]) {
        let path = Path.join(k.directory, relative)
        guard isLoadable(path, within: k.directory) else {
            throw RenderError(
                path: k.file, field: field,
                message: "security; file '\(path)' is not in or below '\(k.directory)' (kustomize's load restrictions)")
        }
        guard exists(path), !isDirectory(path) else {
            throw RenderError(path: k.file, field: field, message: "'\(relative)' does not exist or cannot be read")
        }
        return (path, try read(path))
    }
}

/// Parses a file's YAML, turning reader errors into render errors that name the file.
func parseYAMLFile(_ bytes: [UInt8], path: String, rules: ScalarRules = .yaml12) throws(RenderError) -> [YAMLDocument] {
    do {
        return try YAML.parseDocuments(bytes, file: path, rules: rules)
    } catch {
        throw RenderError(path: path, line: error.line, column: error.column, message: error.message)
    }
}

/// The machine's own file system.
public struct LocalFileSystem: RenderFileSystem {
    public init() {}

    public func contents(of path: String) -> [UInt8]? {
        guard !isDirectory(path), let data = FileManager.default.contents(atPath: path) else { return nil }
        return [UInt8](data)
    }

    public func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    public func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    public func realPath(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }
}

/// Files held in memory, keyed by absolute path; directories are implied by the files in them.
public struct InMemoryFileSystem: RenderFileSystem {
    public var files: [String: [UInt8]]

    public init(files: [String: String] = [:]) {
        self.files = files.mapValues { Array($0.utf8) }
    }

    public func contents(of path: String) -> [UInt8]? { files[Path.normalize(path)] }

    public func isDirectory(_ path: String) -> Bool {
        let prefix = Path.normalize(path) == "/" ? "/" : Path.normalize(path) + "/"
        return files.keys.contains { $0.hasPrefix(prefix) }
    }

    public func exists(_ path: String) -> Bool {
        files[Path.normalize(path)] != nil || isDirectory(path)
    }
}

/// Path arithmetic on `/`-separated paths, without touching the disk.
public enum Path {
    /// Joins `relative` onto `base` unless `relative` is absolute, then normalizes.
    public static func join(_ base: String, _ relative: String) -> String {
        relative.hasPrefix("/") ? normalize(relative) : normalize(base + "/" + relative)
    }

    /// Removes `.` and `..` segments and duplicate slashes.
    public static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
                continue
            }
            if part == "..", absolute { continue }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// Whether `path` is `root` or lies below it.
    public static func isWithin(_ path: String, root: String) -> Bool {
        let p = normalize(path)
        let r = normalize(root)
        if r == "." { return !p.hasPrefix("/") && p != ".." && !p.hasPrefix("../") }
        return p == r || p.hasPrefix(r == "/" ? "/" : r + "/")
    }

    /// The directory part of a path.
    public static func directory(of path: String) -> String {
        let p = normalize(path)
        guard let slash = p.lastIndex(of: "/") else { return "." }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    /// The relative path from directory `base` to `path`, with `..` steps where needed
    /// (`from: "overlay", to: "base/c.yaml"` → `../base/c.yaml`).
    public static func relativePath(from base: String, to path: String) -> String {
        let b = normalize(base).split(separator: "/").filter { $0 != "." }
        let p = normalize(path).split(separator: "/").filter { $0 != "." }
        var common = 0
        while common < b.count, common < p.count, b[common] == p[common] { common += 1 }
        let steps = Array(repeating: "..", count: b.count - common) + p[common...].map(String.init)
        return steps.isEmpty ? "." : steps.joined(separator: "/")
    }

    /// `path` relative to `base` when it lies below it, else `path` unchanged.
    public static func relative(_ path: String, to base: String) -> String {
        let p = normalize(path)
        let b = normalize(base)
        if p == b { return "." }
        if p.hasPrefix(b + "/") { return String(p.dropFirst(b.count + 1)) }
        return p
    }
}

/// Another file system with some files replaced: renders a tree as it will be once changed,
/// before the change is written anywhere (promotion validates its edits this way).
public struct OverlayFileSystem: RenderFileSystem {
    public var base: any RenderFileSystem
    /// Replaced files' contents by normalized absolute path.
    public var overrides: [String: [UInt8]]

    public init(base: any RenderFileSystem = LocalFileSystem(), overrides: [String: [UInt8]]) {
        self.base = base
        self.overrides = Dictionary(overrides.map { (Path.normalize($0.key), $0.value) }, uniquingKeysWith: { $1 })
    }

    public func contents(of path: String) -> [UInt8]? { overrides[Path.normalize(path)] ?? base.contents(of: path) }
    public func isDirectory(_ path: String) -> Bool { overrides[Path.normalize(path)] == nil && base.isDirectory(path) }
    public func exists(_ path: String) -> Bool { overrides[Path.normalize(path)] != nil || base.exists(path) }
    public func realPath(_ path: String) -> String { base.realPath(path) }
}
