import Foundation
import TaiCore
import TaiSSA

/// The little of Kubernetes' protobuf encoding kubectl's typed client sends (`kubectl create
/// namespace`, `create configmap`, `create secret`, `create serviceaccount`): a `k8s\0`
/// envelope holding a `runtime.Unknown` with the object's TypeMeta and bytes.
enum Protobuf {
    struct DecodeError: Error, CustomStringConvertible {
        var description: String
    }

    /// Fields of one message: number → values (varints as UInt64, length-delimited as bytes).
    private static func fields(_ bytes: ArraySlice<UInt8>) throws(DecodeError) -> [(Int, FieldValue)] {
        var out: [(Int, FieldValue)] = []
        var i = bytes.startIndex
        func varint() throws(DecodeError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard i < bytes.endIndex, shift < 64 else { throw DecodeError(description: "truncated varint") }
                let b = bytes[i]
                i += 1
                result |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
            }
        }
        while i < bytes.endIndex {
            let key = try varint()
            let number = Int(key >> 3)
            switch key & 7 {
            case 0: out.append((number, .varint(try varint())))
            case 2:
                let length = Int(try varint())
                guard length >= 0, i + length <= bytes.endIndex else { throw DecodeError(description: "truncated field \(number)") }
                out.append((number, .bytes(bytes[i..<(i + length)])))
                i += length
            case 1: i += 8
            case 5: i += 4
            default: throw DecodeError(description: "unsupported wire type \(key & 7)")
            }
        }
        return out
    }

    private enum FieldValue {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)

        var text: String { if case .bytes(let b) = self { String(decoding: b, as: UTF8.self) } else { "" } }
        var data: ArraySlice<UInt8> { if case .bytes(let b) = self { b } else { [] } }
    }

    static func decodeObject(_ body: [UInt8]) throws(DecodeError) -> Value {
        guard body.count >= 4, Array(body.prefix(4)) == [0x6b, 0x38, 0x73, 0x00] else { throw DecodeError(description: "missing k8s protobuf envelope") }
        var apiVersion = ""
        var kind = ""
        var raw: ArraySlice<UInt8> = []
        for (number, value) in try fields(body[4...]) {
            if number == 1 {
                for (n, v) in try fields(value.data) {
                    if n == 1 { apiVersion = v.text }
                    if n == 2 { kind = v.text }
                }
            } else if number == 2 {
                raw = value.data
            }
        }
        var object: ValueMap = ["apiVersion": .string(apiVersion), "kind": .string(kind)]
        for (number, value) in try fields(raw) {
            switch (kind, number) {
            case (_, 1): object["metadata"] = try metadata(value.data)
            case ("ConfigMap", 2), ("Secret", 2):
                var data = (object["data"]?.mapValue) ?? [:]
                let (k, v) = try entry(value.data)
                data[k] = .string(kind == "Secret" ? Data(v).base64EncodedString() : String(decoding: v, as: UTF8.self))
                object["data"] = .map(data)
            case ("Secret", 3): object["type"] = .string(value.text)
            case ("Secret", 4):
                var data = (object["stringData"]?.mapValue) ?? [:]
                let (k, v) = try entry(value.data)
                data[k] = .string(String(decoding: v, as: UTF8.self))
                object["stringData"] = .map(data)
            default: break
            }
        }
        return .map(object)
    }

    private static func entry(_ bytes: ArraySlice<UInt8>) throws(DecodeError) -> (String, ArraySlice<UInt8>) {
        var key = ""
        var value: ArraySlice<UInt8> = []
        for (n, v) in try fields(bytes) {
            if n == 1 { key = v.text }
            if n == 2 { value = v.data }
        }
        return (key, value)
    }

    private static func metadata(_ bytes: ArraySlice<UInt8>) throws(DecodeError) -> Value {
        var meta = ValueMap()
        var labels = ValueMap()
        var annotations = ValueMap()
        for (number, value) in try fields(bytes) {
            switch number {
            case 1: if !value.text.isEmpty { meta["name"] = .string(value.text) }
            case 2: if !value.text.isEmpty { meta["generateName"] = .string(value.text) }
            case 3: if !value.text.isEmpty { meta["namespace"] = .string(value.text) }
            case 11: let (k, v) = try entry(value.data); labels[k] = .string(String(decoding: v, as: UTF8.self))
            case 12: let (k, v) = try entry(value.data); annotations[k] = .string(String(decoding: v, as: UTF8.self))
            default: break
            }
        }
        if !labels.isEmpty { meta["labels"] = .map(labels) }
        if !annotations.isEmpty { meta["annotations"] = .map(annotations) }
        return .map(meta)
    }
}
