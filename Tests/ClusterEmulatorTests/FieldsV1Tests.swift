import Foundation
import TaiCore
import TaiRender
import TaiSSA
import TaiTesting
import TaiYAML
import Testing

@Suite("fieldsV1 of a create")
struct FieldsV1Tests {
    /// Every object of the TAI environments and the shared fixtures' desired objects.
    static func objects() throws -> [(String, Value)] {
        var out: [(String, Value)] = []
        for env in ["dev", "staging", "prod"] {
            for object in try Kustomizer().build(TaiTesting.repositoryRoot + "/environments/" + env).map(\.object) {
                out.append(("\(env): \(object["kind"]?.stringValue ?? "")/\(object[path: ["metadata", "name"]]?.stringValue ?? "")", object))
            }
        }
        if let directory = TaiTesting.sharedFixturesDirectory {
            for fixture in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
                for ext in ["yaml", "json"] {
                    let path = "\(directory)/\(fixture)/desired.\(ext)"
                    if let text = try? String(contentsOfFile: path, encoding: .utf8) { out.append((fixture, try YAML.parse(text, file: path))) }
                }
            }
        }
        return out
    }

    @Test("built directly, it is the applied field set's encoding, byte for byte, for every TAI object and shared fixture")
    func directEqualsEncoded() throws {
        let objects = try Self.objects()
        #expect(objects.count > 60)
        for (name, object) in objects {
            var defaulted = object
            Defaults.apply(&defaulted, allocateClusterIP: { "10.0.0.1" })
            let type = ServerSideApply.typeRef(for: object, schema: .builtin)
            let direct = ServerSideApply.appliedFieldsV1(object, type: type, defaulted: defaulted)
            let viaSet = ServerSideApply.appliedFields(object, type: type, defaulted: defaulted).encoded()
            #expect(JSON.serialize(direct) == JSON.serialize(viaSet), "\(name)")
            let normalized = ServerSideApply.normalizedApplied(object, defaulted: defaulted)
            #expect(JSON.serialize(FieldSets.fieldsV1(of: normalized, type: type)) == JSON.serialize(FieldSets.of(normalized, type: type).encoded()), "\(name)")
        }
    }
}
