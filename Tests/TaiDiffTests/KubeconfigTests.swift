import Foundation
import TaiKube
import TaiTesting
import Testing

@Suite("Kubeconfig")
struct KubeconfigTests {
    static let main = """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: dev
          cluster:
            server: https://dev.example.com:6443/
            certificate-authority-data: \(Data("CA PEM".utf8).base64EncodedString())
        - name: shared
          cluster:
            server: https://first.example.com
        contexts:
        - name: dev
          context: {cluster: dev, user: dev-user, namespace: tai-dev}
        users:
        - name: dev-user
          user:
            token: abc
        """
    static let second = """
        apiVersion: v1
        kind: Config
        current-context: ignored-because-the-first-file-sets-one
        clusters:
        - name: shared
          cluster:
            server: https://second.example.com
            insecure-skip-tls-verify: true
        - name: prod
          cluster:
            server: https://prod.example.com
            certificate-authority: certs/ca.crt
        contexts:
        - name: prod
          context: {cluster: prod, user: prod-user}
        - name: shared
          context: {cluster: shared, user: files}
        - name: gke
          context: {cluster: prod, user: gke}
        - name: broken
          context: {cluster: missing, user: prod-user}
        users:
        - name: prod-user
          user:
            client-certificate-data: \(Data("CERT".utf8).base64EncodedString())
            client-key-data: \(Data("KEY".utf8).base64EncodedString())
        - name: files
          user:
            tokenFile: token.txt
            client-certificate: /abs/client.crt
            client-key: rel/client.key
        - name: gke
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1beta1
              command: gke-gcloud-auth-plugin
              args: [--flag]
              env: [{name: A, value: b}]
        """

    func write(_ dir: TemporaryDirectory) throws -> (String, String) {
        (try dir.write("main/config", Self.main), try dir.write("second/config", Self.second))
    }

    @Test("the current context of the first file that names one; token, namespace, CA data")
    func currentContext() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (a, b) = try write(dir)
        let config = try Kubeconfig.load(paths: Kubeconfig.paths(explicit: nil, environment: ["KUBECONFIG": "\(a):\(b)"]))
        #expect(config.server == "https://dev.example.com:6443")
        #expect(config.namespace == "tai-dev")
        #expect(config.tls.caData == Array("CA PEM".utf8))
        guard case .token(let token) = config.credentials else { Issue.record("no token"); return }
        #expect(token == "abc")
    }

    @Test("merged files: the first definition of a name wins; paths resolve against the file that names them")
    func merging() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (a, b) = try write(dir)
        let shared = try Kubeconfig.load(paths: [a, b], context: "shared")
        #expect(shared.server == "https://first.example.com")
        #expect(!shared.tls.insecureSkipVerify, "the second file's 'shared' cluster is shadowed")
        #expect(shared.tls.clientCertificateFile == "/abs/client.crt")
        #expect(shared.tls.clientKeyFile == dir.path + "/second/rel/client.key")
        guard case .tokenFile(let file) = shared.credentials else { Issue.record("no token file"); return }
        #expect(file == dir.path + "/second/token.txt")
        let prod = try Kubeconfig.load(paths: [a, b], context: "prod", namespace: "override")
        #expect(prod.tls.caFile == dir.path + "/second/certs/ca.crt")
        #expect(prod.tls.clientCertificateData == Array("CERT".utf8))
        #expect(prod.tls.clientKeyData == Array("KEY".utf8))
        #expect(prod.namespace == "override")
    }

    @Test("an exec credential plugin is read with its API version, args and env")
    func exec() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (a, b) = try write(dir)
        let gke = try Kubeconfig.load(paths: [a, b], context: "gke")
        guard case .exec(let exec) = gke.credentials else { Issue.record("no exec"); return }
        #expect(exec.apiVersion == "client.authentication.k8s.io/v1beta1")
        #expect(exec.command == "gke-gcloud-auth-plugin")
        #expect(exec.args == ["--flag"])
        #expect(exec.env.map(\.name) == ["A"])
    }

    @Test("errors name what is missing")
    func errors() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (a, b) = try write(dir)
        #expect(throws: KubeError.self) { try Kubeconfig.load(paths: [a, b], context: "nope") }
        do {
            _ = try Kubeconfig.load(paths: [a, b], context: "nope")
        } catch {
            #expect(error.description.contains("context \"nope\" is not defined"))
            #expect(error.description.contains("defined: broken, dev, gke, prod, shared"))
        }
        do {
            _ = try Kubeconfig.load(paths: [a, b], context: "broken")
        } catch {
            #expect(error.description.contains("names cluster \"missing\", which is not defined"))
        }
        do {
            _ = try Kubeconfig.load(paths: [dir.path + "/absent"])
        } catch {
            #expect(error.description.contains("does not exist"))
        }
    }

    @Test("in a pod: the service account token, CA and namespace")
    func inCluster() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try dir.write("sa/token", "tok\n")
        _ = try dir.write("sa/namespace", "tai-prod")
        _ = try dir.write("sa/ca.crt", "CA")
        let config = try Kubeconfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"], directory: dir.path + "/sa")
        #expect(config.server == "https://10.0.0.1:443")
        #expect(config.namespace == "tai-prod")
        #expect(config.tls.caFile == dir.path + "/sa/ca.crt")
        #expect(throws: KubeError.self) { try Kubeconfig.inCluster(environment: [:], directory: dir.path + "/sa") }
    }
}
