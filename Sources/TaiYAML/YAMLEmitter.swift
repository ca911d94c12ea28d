import CYAML
import TaiCore

/// How ``YAML/emit(_:style:)`` writes values.
public struct YAMLStyle: Sendable, Equatable {
    /// Sort map keys in the order kustomize prints them (go-yaml v2's natural order).
    public var sortKeys: Bool
    /// Print numbers as kustomize does after its JSON round trip: `1.0` becomes `1`, other
    /// floats take Go's shortest `%g` form (`1e+06`, `1.5`).
    public var kustomizeNumbers: Bool

    public init(sortKeys: Bool, kustomizeNumbers: Bool) {
        self.sortKeys = sortKeys
        self.kustomizeNumbers = kustomizeNumbers
    }

    /// Byte-for-byte the output of `kustomize build`.
    public static let kustomize = YAMLStyle(sortKeys: true, kustomizeNumbers: true)
    /// Keys in map order and every number in a form that reads back as the same type.
    public static let preserving = YAMLStyle(sortKeys: false, kustomizeNumbers: false)
}

extension YAML {
    /// Writes one value as a YAML document (no leading `---`).
    public static func emit(_ value: Value, style: YAMLStyle = .preserving) -> String {
        let emitter = LibYAMLEmitter(style: style)
        return emitter.emitDocument(value)
    }

    /// Writes several documents separated by `---` lines, as `kustomize build` does.
    public static func emitDocuments(_ values: [Value], style: YAMLStyle = .preserving) -> String {
        var out = ""
        for (i, value) in values.enumerated() {
            if i > 0 { out += "---\n" }
            out += emit(value, style: style)
        }
        return out
    }
}

/// Collects what libyaml writes.
private final class OutputBuffer {
    var bytes: [UInt8] = []
}

/// Owns one libyaml emitter. Each document is written as its own stream, so documents never
/// share emitter state.
final class LibYAMLEmitter {
    private let style: YAMLStyle

    init(style: YAMLStyle) {
        self.style = style
    }

    func emitDocument(_ value: Value) -> String {
        let emitter = UnsafeMutablePointer<yaml_emitter_t>.allocate(capacity: 1)
        yaml_emitter_initialize(emitter)
        defer {
            yaml_emitter_delete(emitter)
            emitter.deallocate()
        }
        yaml_emitter_set_unicode(emitter, 1)
        yaml_emitter_set_indent(emitter, 2)
        yaml_emitter_set_width(emitter, 80)
        yaml_emitter_set_break(emitter, YAML_LN_BREAK)

        let output = OutputBuffer()
        let context = Unmanaged.passUnretained(output).toOpaque()
        yaml_emitter_set_output(emitter, { data, buffer, size in
            guard let data, let buffer else { return 0 }
            let output = Unmanaged<OutputBuffer>.fromOpaque(data).takeUnretainedValue()
            output.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
            return 1
        }, context)

        var event = yaml_event_t()
        yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING)
        yaml_emitter_emit(emitter, &event)
        yaml_document_start_event_initialize(&event, nil, nil, nil, 1)
        yaml_emitter_emit(emitter, &event)
        emitNode(value, emitter)
        yaml_document_end_event_initialize(&event, 1)
        yaml_emitter_emit(emitter, &event)
        yaml_stream_end_event_initialize(&event)
        yaml_emitter_emit(emitter, &event)
        yaml_emitter_flush(emitter)
        withExtendedLifetime(output) {}

        var bytes = output.bytes
        // libyaml closes a stream that ends in a keep-chomped block scalar (`|+`) with a `...`
        // marker; go-yaml, which kustomize prints with, does not.
        let marker = Array("...\n".utf8)
        if bytes.count >= marker.count, Array(bytes.suffix(marker.count)) == marker {
            bytes.removeLast(marker.count)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func emitNode(_ value: Value, _ emitter: UnsafeMutablePointer<yaml_emitter_t>) {
        var event = yaml_event_t()
        switch value {
        case .map(let map):
            yaml_mapping_start_event_initialize(&event, nil, nil, 1, YAML_BLOCK_MAPPING_STYLE)
            yaml_emitter_emit(emitter, &event)
            if style.sortKeys {
                for key in map.keys.sorted(by: KeyOrder.goYAMLLess) {
                    emitString(key, emitter)
                    emitNode(map[key] ?? .null, emitter)
                }
            } else {
                for (key, item) in map {
                    emitString(key, emitter)
                    emitNode(item, emitter)
                }
            }
            yaml_mapping_end_event_initialize(&event)
            yaml_emitter_emit(emitter, &event)
        case .list(let items):
            yaml_sequence_start_event_initialize(&event, nil, nil, 1, YAML_BLOCK_SEQUENCE_STYLE)
            yaml_emitter_emit(emitter, &event)
            for item in items { emitNode(item, emitter) }
            yaml_sequence_end_event_initialize(&event)
            yaml_emitter_emit(emitter, &event)
        case .string(let s):
            emitString(s, emitter)
        case .null:
            emitScalar("null", YAML_PLAIN_SCALAR_STYLE, emitter)
        case .bool(let b):
            emitScalar(b ? "true" : "false", YAML_PLAIN_SCALAR_STYLE, emitter)
        case .int(let i):
            emitScalar(String(i), YAML_PLAIN_SCALAR_STYLE, emitter)
        case .uint(let u):
            emitScalar(String(u), YAML_PLAIN_SCALAR_STYLE, emitter)
        case .double(let d):
            emitScalar(formatDouble(d), YAML_PLAIN_SCALAR_STYLE, emitter)
        }
    }

    private func formatDouble(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        guard style.kustomizeNumbers else { return d.description }
        return YAML.formatNumber(d)
    }

    /// A string scalar styled as go-yaml v2 asks for it: literal block when it has a line break,
    /// double-quoted when it would otherwise read back as another type, else plain — and libyaml
    /// falls back from plain to single-quoted (or double-quoted) when the text needs it.
    private func emitString(_ s: String, _ emitter: UnsafeMutablePointer<yaml_emitter_t>) {
        let scalarStyle: yaml_scalar_style_t
        if s.utf8.contains(UInt8(ascii: "\n")) {
            scalarStyle = YAML_LITERAL_SCALAR_STYLE
        } else if ScalarResolver.needsQuotingForGoYAMLv2(s) {
            scalarStyle = YAML_DOUBLE_QUOTED_SCALAR_STYLE
        } else {
            scalarStyle = YAML_PLAIN_SCALAR_STYLE
        }
        emitScalar(s, scalarStyle, emitter)
    }

    private func emitScalar(_ text: String, _ scalarStyle: yaml_scalar_style_t, _ emitter: UnsafeMutablePointer<yaml_emitter_t>) {
        var event = yaml_event_t()
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBufferPointer { buffer in
            // libyaml copies the value; the buffer only has to live through this call.
            var dummy: UInt8 = 0
            let base = buffer.baseAddress ?? withUnsafeMutablePointer(to: &dummy) { $0 }
            yaml_scalar_event_initialize(&event, nil, nil, base, Int32(buffer.count), 1, 1, scalarStyle)
        }
        yaml_emitter_emit(emitter, &event)
    }
}
