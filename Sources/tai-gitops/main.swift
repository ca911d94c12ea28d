import TaiRender
do {
    print(try Kustomizer().render(CommandLine.arguments[1]), terminator: "")
} catch { print(error) }
