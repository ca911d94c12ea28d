import Crypto
import Foundation
import NIOSSL
import X509

/// A certificate authority and a server certificate made for one emulator run (ECDSA P-256),
/// valid for 127.0.0.1, ::1 and localhost (kubectl requires SANs, not a CN).
public struct TLSMaterial: Sendable {
    public let caPEM: String
    public let certificatePEM: String
    public let privateKeyPEM: String

    public static func generate(hosts: [String] = ["127.0.0.1", "::1", "localhost"]) throws -> TLSMaterial {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            OrganizationName("tai-gitops")
            CommonName("tai-gitops cluster emulator CA")
        }
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86400 * 365),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(caKey))

        let serverKey = P256.Signing.PrivateKey()
        let serverName = try DistinguishedName { CommonName("tai-gitops cluster emulator") }
        var names: [GeneralName] = []
        for host in hosts {
            if let bytes = Self.ipBytes(host) {
                names.append(.ipAddress(.init(contentBytes: ArraySlice(bytes))))
            } else {
                names.append(.dnsName(host))
            }
        }
        let sans = SubjectAlternativeNames(names)
        let server = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(serverKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86400 * 365),
            issuer: caName, subject: serverName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                sans
            },
            issuerPrivateKey: .init(caKey))
        return TLSMaterial(
            caPEM: try ca.serializeAsPEM().pemString,
            certificatePEM: try server.serializeAsPEM().pemString,
            privateKeyPEM: serverKey.pemRepresentation)
    }

    /// The bytes of an IPv4 or IPv6 literal, nil for a host name.
    static func ipBytes(_ host: String) -> [UInt8]? {
        let v4 = host.split(separator: ".", omittingEmptySubsequences: false)
        if v4.count == 4, let bytes = Optional(v4.compactMap { UInt8($0) }), bytes.count == 4 { return bytes }
        guard host.contains(":") else { return nil }
        let halves = host.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ text: String) -> [UInt16]? {
            text.isEmpty ? [] : text.split(separator: ":", omittingEmptySubsequences: false).map { UInt16($0, radix: 16) }.reduce(into: [UInt16]?([])) { acc, g in
                if let g { acc?.append(g) } else { acc = nil }
            }
        }
        guard let head = groups(halves[0]), let tail = halves.count == 2 ? groups(halves[1]) : [] else { return nil }
        let fill = 8 - head.count - tail.count
        guard fill >= 0, halves.count == 2 || fill == 0 else { return nil }
        return (head + Array(repeating: 0, count: fill) + tail).flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    /// Client certificates signed by this CA (PEM) authenticate a request, as kube-apiserver's
    /// `--client-ca-file`; clients without one may still use a token.
    public var clientCAPEM: String?

    /// A NIOSSL server context serving HTTP/1.1.
    func serverContext() throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.applicationProtocols = ["http/1.1"]
        if let clientCAPEM {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(clientCAPEM.utf8)))
            configuration.certificateVerification = .optionalVerification
        }
        return try NIOSSLContext(configuration: configuration)
    }

    init(caPEM: String, certificatePEM: String, privateKeyPEM: String) {
        self.caPEM = caPEM
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }
}
