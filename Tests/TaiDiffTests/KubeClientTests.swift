import ClusterEmulator
import Foundation
import TaiCore
import TaiKube
import Testing

@Suite("Kube client verbs")
struct KubeClientTests {
    @Test("create, get, list with paging, merge and JSON patch, delete, typed errors")
    func verbs() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let cm = try await h.client.resource(apiVersion: "v1", kind: "ConfigMap")
        for i in 0..<7 {
            _ = try await h.client.create(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string("c\(i)"), "namespace": "default"], "data": ["i": .string("\(i)")]], fieldManager: "test")
        }
        do {
            _ = try await h.client.create(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c0", "namespace": "default"]], fieldManager: "test")
            Issue.record("a second create must fail")
        } catch {
            #expect(error.isConflict)
            #expect(error.description.contains("AlreadyExists (409): configmaps \"c0\" already exists"))
        }
        #expect(try await h.client.list(cm, namespace: "default").count == 7)
        let merged = try await h.client.patch(cm, namespace: "default", name: "c1", patch: ["data": ["x": "y"]], type: "application/merge-patch+json", fieldManager: "test")
        #expect(merged[path: ["data", "x"]] == "y")
        let jsonPatched = try await h.client.patch(cm, namespace: "default", name: "c1", patch: [["op": "remove", "path": "/data/x"]], type: "application/json-patch+json", fieldManager: "test")
        #expect(jsonPatched[path: ["data", "x"]] == nil)
        #expect(try await h.client.delete(cm, namespace: "default", name: "c2"))
        #expect(try await h.client.get(cm, namespace: "default", name: "c2") == nil)
        #expect(try await h.client.delete(cm, namespace: "default", name: "c2") == false)
        await h.stop()
    }

    @Test("watch: the current objects as ADDED, then changes as they happen, until the consumer stops")
    func watch() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let cm = try await h.client.resource(apiVersion: "v1", kind: "ConfigMap")
        _ = try await h.client.create(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "first", "namespace": "default"]], fieldManager: "test")
        let client = h.client
        let writer = Task {
            try await Task.sleep(for: .milliseconds(300))
            _ = try await client.create(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "second", "namespace": "default"]], fieldManager: "test")
            try await client.delete(cm, namespace: "default", name: "first")
        }
        var seen: [String] = []
        for try await event in h.client.watch(cm, namespace: "default") {
            seen.append("\(event.type) \(event.object[path: ["metadata", "name"]]?.stringValue ?? "")")
            if seen.count == 3 { break }
        }
        #expect(seen == ["ADDED first", "ADDED second", "DELETED first"])
        _ = try await writer.value
        await h.stop()
    }
}
