import ArgumentParser

/// `tai-gitops`: keeps Kubernetes clusters equal to what a git repository declares.
@main
struct TaiGitops: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tai-gitops",
        abstract: "Keep Kubernetes clusters equal to a git repository (kustomize layout).",
        discussion: """
            The pipeline: Source (git) → Render (kustomize) → Diff → Apply → Promote.
            This build offers render (build), drift (diff), apply, the sync loop (agent) and what it recorded (status), the Kubernetes API emulator (cluster) and a demo of the whole loop (demo); promotion arrives as it works end to end.
            """,
        version: "0.1.0",
        subcommands: [Build.self, DiffCommand.self, ApplyCommand.self, AdoptCommand.self, AgentCommand.self, StatusCommand.self, PromoteCommand.self, RollbackCommand.self, ClusterCommand.self, DemoCommand.self]
    )
}
