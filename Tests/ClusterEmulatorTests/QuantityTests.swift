import Testing
@testable import TaiSSA

@Suite("Quantities")
struct QuantityTests {
    @Test("canonical forms as kube-apiserver emits them", arguments: [
        ("1.5", "1500m"), ("1.5Gi", "1536Mi"), ("1024Mi", "1Gi"), ("1000M", "1G"), (".001Ki", "1024m"), ("0.5", "500m"),
        ("5000m", "5"), ("1e3", "1e3"), ("0", "0"), ("2000m", "2"), ("1000m", "1"), ("0.1m", "1m"), ("100m", "100m"),
        ("128Mi", "128Mi"), ("1", "1"), ("512", "512"), ("2048", "2048"), ("1536Mi", "1536Mi"), ("1.25", "1250m"), ("10G", "10G"),
        ("1500k", "1500k"), ("3000000", "3M"), ("0.0001", "1m"), ("1Ki", "1Ki"), ("1023", "1023"),
    ])
    func canonical(_ input: String, _ expected: String) {
        #expect(Quantity.canonical(input) == expected)
    }

    @Test("the integer path agrees with the exact one wherever it answers")
    func fastPathAgrees() {
        for text in ["1", "10", "250m", "1.5", "0.25", "64Mi", "1.5Gi", "3Ti", "7k", "12M", "0.001", "999m", "4096", "1.000", "2.5Ki", "100G"] {
            guard let fast = Quantity.canonicalWithIntegers(text) else { continue }
            #expect(fast == Quantity.canonicalExact(text), "\(text)")
        }
    }
}
