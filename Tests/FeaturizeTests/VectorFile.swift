import Foundation

/// The vector files tools/make_feature_vectors.py writes into Vectors/ (a copied resource).
enum VectorFile {
    static func data(_ name: String) -> Data {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Vectors"),
              let data = try? Data(contentsOf: url) else {
            fatalError("Vectors/\(name) is missing: run tools/make_feature_vectors.py")
        }
        return data
    }
}
