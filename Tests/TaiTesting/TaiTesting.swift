public enum TaiTesting {}
