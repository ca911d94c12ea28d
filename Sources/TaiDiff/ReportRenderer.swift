import Foundation
import TaiCore
import TaiYAML

/// How a diff report is shown: a unified diff per object as `kubectl diff` prints, attributed
/// field changes, a one-line summary; or JSON for scripts. Secret values never appear.
public enum ReportRenderer {
    public static func text(_ report: DiffReport, environment: String, color: Bool, now: Date = Date()) -> String {
        let bold = color ? "\u{1B}[1m" : "", yellow = color ? "\u{1B}[33m" : "", green = color ? "\u{1B}[32m" : "", red = color ? "\u{1B}[31m" : "", dim = color ? "\u{1B}[2m" : "", reset = color ? "\u{1B}[0m" : ""
        var out = ""
        for object in report.objects where object.verdict != .inSync {
            let label: String = switch object.verdict {
            case .drifted: "\(yellow)~ drifted\(reset)"
            case .create: "\(green)+ to create\(reset)"
            case .prune: "\(red)- to prune\(reset)"
            case .adopt: "= to adopt" + (object.previousManagers.isEmpty ? "" : " (written by \(object.previousManagers.joined(separator: ", ")); equal to git)")
            case .inSync: "in sync"
            }
            out += "\(bold)\(object.id)\(reset)  \(label)\n"
            for change in object.changes {
                out += "  \(change.path): \(describe(change.live, change.sensitive)) → \(describe(change.desired, change.sensitive))"
                var notes: [String] = []
                if let manager = change.manager {
                    var who = manager
                    if let sub = change.subresource { who += "/\(sub)" }
                    if let time = change.time, let age = age(time, now: now) { who += ", \(age) ago" }
                    notes.append(who)
                }
                notes.append(change.cause.rawValue)
                out += " \(dim)(\(notes.joined(separator: "; ")))\(reset)\n"
            }
            let path = "\(object.apiVersion.replacingOccurrences(of: "/", with: ".")).\(object.kind).\(object.namespace ?? "").\(object.name)"
            let live = object.live.map { yaml(masked($0, object)) } ?? ""
            let predicted = object.predicted.map { yaml(masked($0, object)) } ?? ""
            out += UnifiedDiff.render(live, predicted, from: "LIVE/\(path)", to: "MERGED/\(path)", color: color)
            out += "\n"
        }
        let drifted = report.count(.drifted), create = report.count(.create), prune = report.count(.prune), sync = report.count(.inSync)
        let adopt = report.count(.adopt)
        out += "\(bold)\(environment)\(reset): \(drifted) drifted, \(adopt > 0 ? "\(adopt) to adopt, " : "")\(create) to create, \(prune) to prune, \(sync) in sync (\(report.objects.count) objects, \(report.requests) requests, \(String(format: "%.2f", report.seconds)) s)\n"
        return out
    }

    public static func json(_ report: DiffReport, environment: String) -> String {
        let objects: [Value] = report.objects.map { object in
            var entry: ValueMap = [
                "apiVersion": .string(object.apiVersion), "kind": .string(object.kind), "name": .string(object.name),
                "verdict": .string(object.verdict.rawValue),
            ]
            if let ns = object.namespace { entry["namespace"] = .string(ns) }
            if object.verdict == .adopt { entry["previousManagers"] = .list(object.previousManagers.map(Value.string)) }
            entry["changes"] = .list(object.changes.map { change in
                var c: ValueMap = ["path": .string(change.path), "cause": .string(change.cause.rawValue)]
                if change.sensitive {
                    c["live"] = change.live == nil ? .null : "(hidden)"
                    c["desired"] = change.desired == nil ? .null : "(hidden)"
                } else {
                    c["live"] = change.live ?? .null
                    c["desired"] = change.desired ?? .null
                }
                if let m = change.manager { c["manager"] = .string(m) }
                if let o = change.operation { c["operation"] = .string(o) }
                if let s = change.subresource { c["subresource"] = .string(s) }
                if let t = change.time { c["time"] = .string(t) }
                return .map(c)
            })
            return .map(entry)
        }
        let summary: Value = [
            "environment": .string(environment), "drifted": .int(report.count(.drifted)), "toCreate": .int(report.count(.create)),
            "toPrune": .int(report.count(.prune)), "toAdopt": .int(report.count(.adopt)), "inSync": .int(report.count(.inSync)),
            "requests": .int(report.requests),
        ]
        return JSON.serializePretty(["summary": summary, "objects": .list(objects)]) + "\n"
    }

    static func describe(_ value: Value?, _ sensitive: Bool) -> String {
        guard let value else { return "(none)" }
        if sensitive { return "(hidden)" }
        switch value {
        case .string(let s): return s.contains(" ") || s.isEmpty ? "\"\(s)\"" : s
        case .map, .list:
            let text = JSON.serialize(value)
            return text.count > 80 ? String(text.prefix(77)) + "..." : text
        default: return value.scalarText ?? JSON.serialize(value)
        }
    }

    /// Secret values replaced as kubectl diff does: the same mask on both sides when equal.
    static func masked(_ object: Value, _ diff: ObjectDiff) -> Value {
        guard diff.kind == "Secret", diff.apiVersion == "v1" else { return object }
        var object = object
        for field in ["data", "stringData"] {
            guard case .map(var data)? = object[field] else { continue }
            for key in data.keys {
                let changed = diff.changes.contains { $0.path == "\(field).\(key)" }
                data[key] = .string(changed ? "*** (changed)" : "***")
            }
            object[field] = .map(data)
        }
        return object
    }

    static func yaml(_ value: Value) -> String { YAML.emit(sortedKeys(value)) }

    static func sortedKeys(_ value: Value) -> Value {
        switch value {
        case .map(let m):
            var out = ValueMap()
            for key in m.keys.sorted() { out[key] = m[key].map(sortedKeys) }
            return .map(out)
        case .list(let items): return .list(items.map(sortedKeys))
        default: return value
        }
    }

    /// `12 minutes ago` style.
    static func age(_ timestamp: String, now: Date) -> String? {
        guard let date = ISO8601DateFormatter().date(from: timestamp) else { return nil }
        let s = max(0, Int(now.timeIntervalSince(date)))
        if s < 60 { return "\(s) second\(s == 1 ? "" : "s")" }
        if s < 3600 { return "\(s / 60) minute\(s / 60 == 1 ? "" : "s")" }
        if s < 86400 { return "\(s / 3600) hour\(s / 3600 == 1 ? "" : "s")" }
        return "\(s / 86400) day\(s / 86400 == 1 ? "" : "s")"
    }
}
