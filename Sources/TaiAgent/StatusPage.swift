import Foundation

/// The status page at `/`: every environment with its revision, sync state, drift with who
/// changed what, canary weights and last errors. Server-rendered HTML that needs no JavaScript
/// and reloads itself.
enum StatusPage {
    static func render(
        records: [SyncRecord], errors: [String: [String]], identity: String, leading: Bool, promotions: [String: String] = [:], refreshSeconds: Int = 5
    ) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="refresh" content="\(refreshSeconds)">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>tai-gitops</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#1d2330;background:#f7f8fa}
            h1{font-size:1.5em;margin:0 0 .2em} .sub{color:#5b6475;margin-bottom:1.5em}
            section{background:#fff;border:1px solid #d9dde5;border-radius:8px;padding:1em 1.2em;margin-bottom:1.2em}
            h2{font-size:1.2em;margin:0 0 .6em;display:flex;gap:.6em;align-items:center}
            .badge{font-size:.8em;padding:.15em .6em;border-radius:1em;color:#fff}
            .Synced{background:#1f883d}.Drifted{background:#bf8700}.Failed{background:#cf222e}.Pending{background:#6e7781}
            table{border-collapse:collapse;width:100%;margin:.4em 0} td,th{text-align:left;padding:.25em .6em;border-bottom:1px solid #eef0f3;vertical-align:top}
            th{color:#5b6475;font-weight:600;width:12em} code{font-family:ui-monospace,monospace;font-size:.92em}
            .bar{display:inline-block;height:.8em;background:#0969da;border-radius:2px;vertical-align:middle;margin-right:.4em}
            ul{margin:.2em 0;padding-left:1.2em} .err{color:#cf222e}
            </style></head><body>
            <h1>tai-gitops</h1>
            <div class="sub">replica <code>\(escape(identity))</code> · \(leading ? "leader" : "standby") · \(escape(SyncRecord.timestamp(Date()))) · refreshes every \(refreshSeconds) s</div>

            """
        for record in records {
            html += "<section id=\"env-\(escape(record.environment))\">\n"
            html += "<h2>\(escape(record.environment)) <span class=\"badge \(record.result.rawValue)\">\(record.result.rawValue)</span></h2>\n<table>\n"
            html += row("revision", record.revision.map { "<code>\(escape(String($0.prefix(12))))</code>" } ?? "—")
            html += row("applied revision", record.appliedRevision.map { "<code>\(escape(String($0.prefix(12))))</code>" } ?? "—")
            html += row(
                "last sync",
                record.time.map { "\(escape(SyncRecord.timestamp($0))) (\(String(format: "%.2f", record.seconds)) s)" } ?? "not yet")
            if record.created + record.configured + record.pruned + record.failed > 0 {
                html += row("last apply", "\(record.created) created, \(record.configured) configured, \(record.pruned) pruned, \(record.failed) failed")
            }
            if let message = record.message { html += row("message", "<span class=\"err\">\(escape(message))</span>") }
            if let interrupted = record.interrupted { html += row("interrupted", escape(interrupted)) }
            if !record.canaryWeights.isEmpty {
                let weights = record.canaryWeights.map {
                    "<div><span class=\"bar\" style=\"width:\(max($0.weight, 1) * 2)px\"></span><code>\(escape($0.virtualService))</code> → \(escape($0.subset)): \($0.weight)%</div>"
                }
                html += row("canary weights", weights.joined())
            }
            if let promotion = promotions[record.environment] { html += row("promotion", escape(promotion)) }
            if record.drifted.isEmpty {
                html += row("drift", "none")
            } else {
                var list = "<ul>"
                for object in record.drifted {
                    list += "<li><code>\(escape(object.id))</code> (\(escape(object.verdict)))"
                    if !object.fields.isEmpty { list += "<ul>" + object.fields.map { "<li>\(escape($0))</li>" }.joined() + "</ul>" }
                    list += "</li>"
                }
                html += row("drift (\(record.drifted.count))", list + "</ul>")
            }
            if let errs = errors[record.environment], !errs.isEmpty {
                html += row("last errors", "<ul>" + errs.reversed().map { "<li class=\"err\">\(escape($0))</li>" }.joined() + "</ul>")
            }
            html += "</table>\n</section>\n"
        }
        html += "</body></html>\n"
        return html
    }

    private static func row(_ name: String, _ value: String) -> String { "<tr><th>\(escape(name))</th><td>\(value)</td></tr>\n" }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
