import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import TaiCore
import TaiSSA

/// The emulator on a real socket: HTTP/1.1 with keep-alive and chunked watch streams.
public final class EmulatorServer: Sendable {
    public let api: APIServer
    public let host: String
    /// The port bound (the one picked by the system when asked for 0).
    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    /// The CA and certificate when serving HTTPS.
    public let tls: TLSMaterial?

    private init(api: APIServer, host: String, port: Int, group: MultiThreadedEventLoopGroup, channel: any Channel, tls: TLSMaterial?) {
        self.api = api
        self.tls = tls
        self.host = host
        self.port = port
        self.group = group
        self.channel = channel
    }

    /// Starts serving; `port` 0 picks a free port.
    public static func start(
        api: APIServer, host: String = "127.0.0.1", port: Int = 0, faults: Faults = Faults(), tls: TLSMaterial? = nil
    ) async throws -> EmulatorServer {
        let sslContext = try tls?.serverContext()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true, withOutboundHeaderValidation: false)  // every header is ours
                    try channel.pipeline.syncOperations.addHandler(APIHandler(api: api, faults: faults))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: host, port: port).get()
            let bound = channel.localAddress?.port ?? port
            return EmulatorServer(api: api, host: host, port: bound, group: group, channel: channel, tls: tls)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// `http://127.0.0.1:PORT`, or `https://` with TLS.
    public var url: String {
        let address = host.contains(":") ? "[\(host)]" : host
        return "\(tls == nil ? "http" : "https")://\(address):\(port)"
    }

    private let stopped = NIOLockedValueBox(false)

    /// Stops serving (once; later calls do nothing).
    public func stop() async {
        let first = stopped.withLockedValue { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

/// Injected failures, to test retries: each request draws once; rates are fractions of requests.
public struct Faults: Sendable {
    public var tooManyRequests = 0.0
    public var serverError = 0.0
    public var serviceUnavailable = 0.0
    public var drop = 0.0
    public var latencyMilliseconds = 0
    /// Verbs the faults apply to (empty: all, except discovery and version).
    public var verbs: Set<String> = []

    public init() {}

    /// Parses `429=0.1,500=0.05,drop=0.02,latency=20ms,verbs=apply+patch`.
    public init(spec: String) throws(APIError) {
        for item in spec.split(separator: ",") {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw .badRequest("--faults: '\(item)' is not KEY=VALUE") }
            switch kv[0] {
            case "429": tooManyRequests = Double(kv[1]) ?? 0
            case "500": serverError = Double(kv[1]) ?? 0
            case "503": serviceUnavailable = Double(kv[1]) ?? 0
            case "drop": drop = Double(kv[1]) ?? 0
            case "latency": latencyMilliseconds = Int(kv[1].replacingOccurrences(of: "ms", with: "")) ?? 0
            case "verbs": verbs = Set(kv[1].split(separator: "+").map(String.init))
            default: throw .badRequest("--faults: unknown key '\(kv[0])' (429, 500, 503, drop, latency, verbs)")
            }
        }
    }

    var isEmpty: Bool { tooManyRequests == 0 && serverError == 0 && serviceUnavailable == 0 && drop == 0 && latencyMilliseconds == 0 }
}

final class APIHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let api: APIServer
    let faults: Faults
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var watchToken: Int?
    private var peerCertified: Bool?
    private var watchStop: (@Sendable (Int) -> Void)?

    init(api: APIServer, faults: Faults) {
        self.api = api
        self.faults = faults
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            if let bytes = buffer.readBytes(length: buffer.readableBytes) { body += bytes }
        case .end:
            guard let head else { return }
            self.head = nil
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[APIRequest.isLowercase(name) ? name : name.lowercased()] = value }
            var request = APIRequest(method: head.method.rawValue, uri: head.uri, headers: headers, body: body)
            if peerCertified == nil {
                // The same for every request of this connection.
                peerCertified = (try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))?.peerCertificate != nil
            }
            request.authenticatedByCertificate = peerCertified ?? false
            body = []
            if let fault = drawFault(request) {
                switch fault {
                case .drop:
                    context.close(promise: nil)
                    return
                case .status(let error):
                    respond(context: context, head: head, response: .error(error))
                    return
                }
            }
            if faults.latencyMilliseconds > 0 && applies(request) {
                let response = api.handle(request)
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(Int64(faults.latencyMilliseconds))) {
                    let (handler, context) = loopBound.value
                    handler.respond(context: context, head: head, response: response)
                }
                return
            }
            respond(context: context, head: head, response: api.handle(request))
        }
    }

    private enum Fault {
        case drop
        case status(APIError)
    }

    private func applies(_ request: APIRequest) -> Bool {
        // Only resource requests are faulted: never /version, discovery, /openapi or /metrics.
        let segments = request.path.split(separator: "/")
        let isResource = (segments.first == "api" && segments.count >= 3) || (segments.first == "apis" && segments.count >= 4)
        guard isResource else { return false }
        if faults.verbs.isEmpty { return true }
        let verb: String
        switch request.method {
        case "GET": verb = request.query["watch"] != nil ? "watch" : "get"
        case "PATCH": verb = request.headers["content-type"]?.hasPrefix("application/apply-patch") == true ? "apply" : "patch"
        case "POST": verb = "create"
        case "PUT": verb = "update"
        case "DELETE": verb = "delete"
        default: verb = request.method.lowercased()
        }
        return faults.verbs.contains(verb) || (verb == "get" && faults.verbs.contains("list"))
    }

    private func drawFault(_ request: APIRequest) -> Fault? {
        guard !faults.isEmpty, applies(request) else { return nil }
        let draw = Double.random(in: 0..<1)
        if draw < faults.drop { return .drop }
        if draw < faults.drop + faults.tooManyRequests {
            api.cluster.count(verb: "fault", resource: "", code: 429)
            return .status(APIError(code: 429, reason: "TooManyRequests", message: "the server has received too many requests and has asked us to try again later", details: ["retryAfterSeconds": 1], retryAfter: 1))
        }
        if draw < faults.drop + faults.tooManyRequests + faults.serverError {
            api.cluster.count(verb: "fault", resource: "", code: 500)
            return .status(APIError(code: 500, reason: "InternalError", message: "Internal error occurred: injected fault"))
        }
        if draw < faults.drop + faults.tooManyRequests + faults.serverError + faults.serviceUnavailable {
            api.cluster.count(verb: "fault", resource: "", code: 503)
            return .status(APIError(code: 503, reason: "ServiceUnavailable", message: "the server is currently unable to handle the request", retryAfter: 1))
        }
        return nil
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, response: APIResponse) {
        let keepAlive = head.isKeepAlive
        switch response {
        case .body(let status, let contentType, let extra, let bytes):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(bytes.count))
            headers.add(name: "Cache-Control", value: "no-cache, private")
            for (name, value) in extra { headers.add(name: name, value: value) }
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers))), promise: nil)
            var buffer = context.channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive { done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) } }
        case .watch(let watch):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: watch.contentType)
            headers.add(name: "Transfer-Encoding", value: "chunked")
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            let channel = context.channel
            watchStop = watch.stop
            watchToken = watch.start { bytes in
                var buffer = channel.allocator.buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let token = watchToken { watchStop?(token) }
        watchToken = nil
        context.fireChannelInactive()
    }
}
