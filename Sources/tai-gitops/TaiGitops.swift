import ArgumentParser

/// `tai-gitops`: keeps Kubernetes clusters equal to what a git repository declares.
@main
struct TaiGitops: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tai-gitops",
        abstract: "Keep Kubernetes clusters equal to a git repository (kustomize layout).",
        discussion: """
            The pipeline: Source (git) → Render (kustomize) → Diff → Apply → Promote.
            This build offers the render stage (build), drift (diff) and the Kubernetes API emulator (cluster); the other verbs arrive as they work end to end.
            """,
        version: "0.1.0",
        subcommands: [Build.self, DiffCommand.self, ClusterCommand.self]
    )
}
