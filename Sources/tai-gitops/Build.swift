import ArgumentParser
import Foundation
import TaiCore
import TaiRender

/// `tai-gitops build DIR`: prints what `kustomize build DIR` prints.
struct Build: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a kustomization directory, byte for byte as `kustomize build` does.",
        discussion: """
            Reads DIR/kustomization.yaml (or .yml, or Kustomization), its resources and nested kustomizations, applies namespace, namePrefix/nameSuffix, commonLabels, commonAnnotations and images, fixes name references and prints the objects in kustomize's order. A kustomize field this build does not support is an error that names the field and the file; it is never ignored.

            Exit status: 0 rendered, 1 the input is invalid (message on stderr, nothing on stdout).

            Examples:
              tai-gitops build environments/prod
              tai-gitops build environments/dev -o json | jq '.items[].metadata.name'
              diff <(tai-gitops build environments/prod) <(kubectl kustomize environments/prod)
              tai-gitops build environments/prod --repo https://git.example.com/tai/config.git --revision main
            """
    )

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case yaml
        case json
    }

    @Argument(help: "The directory holding the kustomization to render (inside --repo when that is a git URL).")
    var directory: String

    @OptionGroup var source: SourceOptions

    @Option(name: .shortAndLong, help: "Output format: yaml (as kustomize) or json (a v1 List).")
    var output: OutputFormat = .yaml

    func run() async throws {
        var directory = self.directory
        if SourceOptions.isURL(source.repo) {
            do { directory = try await source.resolveRepository() + "/" + directory } catch { throw CLIError(message: error.message) }
        }
        let kustomizer = Kustomizer(onWarning: { warning in
            FileHandle.standardError.write(Data("# Warning: \(warning)\n".utf8))
        })
        let text: String
        do {
            switch output {
            case .yaml:
                text = try kustomizer.render(directory)
            case .json:
                let objects = try kustomizer.build(directory).map(\.object)
                let list: Value = ["apiVersion": "v1", "kind": "List", "items": .list(objects)]
                text = JSON.serializePretty(list) + "\n"
            }
        } catch {
            throw CLIError(message: error.description)
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// A failure already explained to the user: printed as `error: MESSAGE`, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
