import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request as a loopback or in-pod endpoint sees it.
public struct FrontendRequest: Sendable {
    public var method: String
    public var path: String
    /// The query string (after `?`), undecoded.
    public var query: String
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, path: String, query: String = "", headers: [String: String], body: [UInt8]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// An answer.
public struct FrontendResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public static func text(_ status: Int, _ text: String) -> FrontendResponse {
        FrontendResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array((text + "\n").utf8))
    }
}

/// A small HTTP server (SwiftNIO, HTTP/1.1): it reads a request (refusing bodies over the limit
/// with 413 before reading them) and hands it to an async handler. The agent's endpoints and the
/// promotion testbed's doubles run on it.
public final class HTTPFrontend: Sendable {
    public let host: String
    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    private init(host: String, port: Int, group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.host = host
        self.port = port
        self.group = group
        self.channel = channel
    }

    public static func start(
        host: String, port: Int, maxBody: Int, handler: @escaping @Sendable (FrontendRequest) async -> FrontendResponse
    ) async throws -> HTTPFrontend {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(FrontendHandler(maxBody: maxBody, handler: handler))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: host, port: port).get()
            return HTTPFrontend(host: host, port: channel.localAddress?.port ?? port, group: group, channel: channel)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    public func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class FrontendHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: every member is touched only on the channel's event loop.
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let maxBody: Int
    let handler: @Sendable (FrontendRequest) async -> FrontendResponse
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(maxBody: Int, handler: @escaping @Sendable (FrontendRequest) async -> FrontendResponse) {
        self.maxBody = maxBody
        self.handler = handler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
            tooLarge = head.headers.first(name: "content-length").flatMap(Int.init).map { $0 > maxBody } ?? false
        case .body(var buffer):
            guard !tooLarge else { return }
            if body.count + buffer.readableBytes > maxBody {
                tooLarge = true
                body = []
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body += bytes
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive
            if tooLarge {
                write(FrontendResponse.text(413, "the body is larger than \(maxBody) bytes"), keepAlive: false, context: context)
                return
            }
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            let path = parts.first.map(String.init) ?? head.uri
            let request = FrontendRequest(method: head.method.rawValue, path: path, query: parts.count > 1 ? String(parts[1]) : "", headers: headers, body: body)
            body = []
            let handler = self.handler
            let loop = context.eventLoop
            let boxed = NIOLoopBound(context, eventLoop: loop)
            let this = NIOLoopBound(self, eventLoop: loop)
            Task {
                let response = await handler(request)
                loop.execute { this.value.write(response, keepAlive: keepAlive, context: boxed.value) }
            }
        }
    }

    private func write(_ response: FrontendResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Cache-Control", value: "no-store")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
