import Foundation
import TaiCore
import TaiHTTP
import TaiYAML

/// How to reach and authenticate to one cluster, resolved from a kubeconfig or from the pod.
public struct ClusterConfig: Sendable {
    public var server: String
    public var tls: TLSOptions
    public var credentials: Credentials
    /// The namespace for objects that do not name one.
    public var namespace: String
    /// Where this came from, for messages: `kubeconfig /path (context prod)` or `in-cluster`.
    public var origin: String

    public init(server: String, tls: TLSOptions = TLSOptions(), credentials: Credentials = .none, namespace: String = "default", origin: String = "") {
        self.server = server
        self.tls = tls
        self.credentials = credentials
        self.namespace = namespace
        self.origin = origin
    }
}

/// How requests authenticate.
public enum Credentials: Sendable {
    case none
    case token(String)
    /// A token read from a file, re-read when it changes (service-account tokens rotate).
    case tokenFile(String)
    case basic(username: String, password: String)
    case exec(ExecConfig)
}

/// A `client.authentication.k8s.io` credential plugin (as GKE's and EKS's helpers are configured).
public struct ExecConfig: Sendable {
    public var apiVersion: String
    public var command: String
    public var args: [String]
    public var env: [(name: String, value: String)]
    /// The directory relative commands and paths are resolved against (the kubeconfig's).
    public var baseDirectory: String
}

/// Reading kubeconfig files the way kubectl does.
public enum Kubeconfig {
    /// Where kubectl would look: `explicit`, else `$KUBECONFIG` (several files, `:`-separated, merged),
    /// else `~/.kube/config`.
    public static func paths(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        if let explicit, !explicit.isEmpty { return [explicit] }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            return list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        return [(environment["HOME"] ?? NSHomeDirectory()) + "/.kube/config"]
    }

    /// Loads and merges the files (the first file to define a name wins, as kubectl merges them),
    /// then resolves `context` (or the current context).
    public static func load(paths: [String], context: String? = nil, namespace: String? = nil) throws(KubeError) -> ClusterConfig {
        var clusters: [String: (Value, String)] = [:]
        var users: [String: (Value, String)] = [:]
        var contexts: [String: Value] = [:]
        var current: String?
        var read = 0
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                if paths.count == 1 { throw .configuration("\(path) does not exist or cannot be read") }
                continue
            }
            read += 1
            let doc: Value
            do { doc = try YAML.parse(String(decoding: data, as: UTF8.self), file: path) } catch {
                throw .configuration("\(error)")
            }
            let dir = (path as NSString).deletingLastPathComponent
            for entry in doc["clusters"]?.listValue ?? [] {
                if let name = entry["name"]?.stringValue, clusters[name] == nil, let c = entry["cluster"] { clusters[name] = (c, dir) }
            }
            for entry in doc["users"]?.listValue ?? [] {
                if let name = entry["name"]?.stringValue, users[name] == nil { users[name] = (entry["user"] ?? .emptyMap, dir) }
            }
            for entry in doc["contexts"]?.listValue ?? [] {
                if let name = entry["name"]?.stringValue, contexts[name] == nil, let c = entry["context"] { contexts[name] = c }
            }
            if current == nil, let c = doc["current-context"]?.stringValue, !c.isEmpty { current = c }
        }
        guard read > 0 else { throw .configuration("none of \(paths.joined(separator: ", ")) could be read") }
        guard let contextName = context ?? current else {
            throw .configuration("no context given (--context) and no current-context in \(paths.joined(separator: ":"))")
        }
        guard let ctx = contexts[contextName] else {
            throw .configuration("context \"\(contextName)\" is not defined in \(paths.joined(separator: ":")) (defined: \(contexts.keys.sorted().joined(separator: ", ")))")
        }
        guard let clusterName = ctx["cluster"]?.stringValue, let (cluster, clusterDir) = clusters[clusterName] else {
            throw .configuration("context \"\(contextName)\" names cluster \"\(ctx["cluster"]?.stringValue ?? "")\", which is not defined")
        }
        guard let server = cluster["server"]?.stringValue, !server.isEmpty else {
            throw .configuration("cluster \"\(clusterName)\" has no server")
        }
        var tls = TLSOptions()
        if let file = cluster["certificate-authority"]?.stringValue { tls.caFile = resolve(file, clusterDir) }
        if let data = cluster["certificate-authority-data"]?.stringValue { tls.caData = try decode(data, "clusters[\(clusterName)].certificate-authority-data") }
        tls.insecureSkipVerify = cluster["insecure-skip-tls-verify"]?.boolValue ?? false

        var credentials = Credentials.none
        if let userName = ctx["user"]?.stringValue, !userName.isEmpty {
            guard let (user, userDir) = users[userName] else {
                throw .configuration("context \"\(contextName)\" names user \"\(userName)\", which is not defined")
            }
            if let file = user["client-certificate"]?.stringValue { tls.clientCertificateFile = resolve(file, userDir) }
            if let file = user["client-key"]?.stringValue { tls.clientKeyFile = resolve(file, userDir) }
            if let data = user["client-certificate-data"]?.stringValue { tls.clientCertificateData = try decode(data, "users[\(userName)].client-certificate-data") }
            if let data = user["client-key-data"]?.stringValue { tls.clientKeyData = try decode(data, "users[\(userName)].client-key-data") }
            if let token = user["token"]?.stringValue, !token.isEmpty {
                credentials = .token(token)
            } else if let file = user["tokenFile"]?.stringValue {
                credentials = .tokenFile(resolve(file, userDir))
            } else if let name = user["username"]?.stringValue, let password = user["password"]?.stringValue {
                credentials = .basic(username: name, password: password)
            } else if let exec = user["exec"] {
                guard let command = exec["command"]?.stringValue else { throw .configuration("users[\(userName)].exec has no command") }
                credentials = .exec(ExecConfig(
                    apiVersion: exec["apiVersion"]?.stringValue ?? "client.authentication.k8s.io/v1",
                    command: command, args: exec["args"]?.listValue?.compactMap(\.scalarText) ?? [],
                    env: (exec["env"]?.listValue ?? []).compactMap { e in e["name"]?.stringValue.map { ($0, e["value"]?.scalarText ?? "") } },
                    baseDirectory: userDir))
            } else if user["auth-provider"] != nil {
                throw .configuration("users[\(userName)] uses auth-provider, which kubectl 1.26+ no longer supports either; use an exec credential plugin")
            }
        }
        let ns = namespace ?? ctx["namespace"]?.stringValue ?? "default"
        return ClusterConfig(server: server.hasSuffix("/") ? String(server.dropLast()) : server, tls: tls, credentials: credentials, namespace: ns.isEmpty ? "default" : ns, origin: "context \(contextName)")
    }

    /// The pod's own cluster: KUBERNETES_SERVICE_HOST/PORT and the service-account token and CA.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String = "/var/run/secrets/kubernetes.io/serviceaccount"
    ) throws(KubeError) -> ClusterConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else {
            throw .configuration("not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
        }
        guard FileManager.default.fileExists(atPath: directory + "/token") else {
            throw .configuration("\(directory)/token does not exist: is a service account token mounted?")
        }
        let namespace = (try? String(contentsOfFile: directory + "/namespace", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "default"
        let address = host.contains(":") ? "[\(host)]" : host
        return ClusterConfig(
            server: "https://\(address):\(port)", tls: TLSOptions(caFile: directory + "/ca.crt"),
            credentials: .tokenFile(directory + "/token"), namespace: namespace, origin: "in-cluster service account")
    }

    private static func resolve(_ path: String, _ base: String) -> String {
        path.hasPrefix("/") || base.isEmpty ? path : base + "/" + path
    }

    private static func decode(_ base64: String, _ field: String) throws(KubeError) -> [UInt8] {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines), options: .ignoreUnknownCharacters) else {
            throw .configuration("\(field) is not valid base64")
        }
        return [UInt8](data)
    }
}
