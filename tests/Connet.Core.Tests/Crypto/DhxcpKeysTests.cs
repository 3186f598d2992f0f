using System.Security.Cryptography;
using Connet.Core.Crypto;

namespace Connet.Core.Tests.Crypto;

public sealed class DhxcpKeysTests
{
    // Known answers computed independently with Python (hashlib.blake2s keyed "connet-hash", hmac, RFC 5869 HKDF,
    // and the cryptography package's X25519) for private keys 01..20 (source) and 21..40 (destination).
    private const string SourcePublicHex = "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c";
    private const string DestinationPublicHex = "5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b";
    private const string SourceWriteHex = "159a999c2e861b787b86e66b5791afd37b62465e0e47e8f03dd21401435e9fe6";
    private const string SourceReadHex = "ba0bcb937f41b8f21698256c05f404d175c99f2f7db06b4a1925896603833105";

    private static DhxcpKeyPair FixedSource() => DhxcpKeyPair.FromPrivateKey(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private static DhxcpKeyPair FixedDestination() => DhxcpKeyPair.FromPrivateKey(Enumerable.Range(33, 32).Select(i => (byte)i).ToArray());

    [Fact]
    public void Fixed_keys_give_the_independently_computed_okm()
    {
        var source = FixedSource();
        var destination = FixedDestination();
        Assert.Equal(SourcePublicHex, Convert.ToHexStringLower(source.PublicKey.Span));
        Assert.Equal(DestinationPublicHex, Convert.ToHexStringLower(destination.PublicKey.Span));

        var sourceKeys = DhxcpKeys.Derive(source, destination.PublicKey.Span, DhxcpRole.Source);
        var destinationKeys = DhxcpKeys.Derive(destination, source.PublicKey.Span, DhxcpRole.Destination);

        Assert.Equal(SourceWriteHex, Convert.ToHexStringLower(sourceKeys.WriteKey.Span));
        Assert.Equal(SourceReadHex, Convert.ToHexStringLower(sourceKeys.ReadKey.Span));
        Assert.Equal(SourceReadHex, Convert.ToHexStringLower(destinationKeys.WriteKey.Span));
        Assert.Equal(SourceWriteHex, Convert.ToHexStringLower(destinationKeys.ReadKey.Span));
    }

    [Fact]
    public void Random_pairs_are_symmetric_and_directional()
    {
        for (var round = 0; round < 8; round++)
        {
            var source = DhxcpKeyPair.Generate();
            var destination = DhxcpKeyPair.Generate();

            var sourceKeys = DhxcpKeys.Derive(source, destination.PublicKey.Span, DhxcpRole.Source);
            var destinationKeys = DhxcpKeys.Derive(destination, source.PublicKey.Span, DhxcpRole.Destination);

            Assert.Equal(sourceKeys.WriteKey.ToArray(), destinationKeys.ReadKey.ToArray());
            Assert.Equal(sourceKeys.ReadKey.ToArray(), destinationKeys.WriteKey.ToArray());
            Assert.NotEqual(sourceKeys.WriteKey.ToArray(), sourceKeys.ReadKey.ToArray());
            Assert.Equal(32, sourceKeys.WriteKey.Length);
        }
    }

    [Fact]
    public void Both_sides_claiming_the_same_role_do_not_agree()
    {
        var a = DhxcpKeyPair.Generate();
        var b = DhxcpKeyPair.Generate();

        var aKeys = DhxcpKeys.Derive(a, b.PublicKey.Span, DhxcpRole.Source);
        var bKeys = DhxcpKeys.Derive(b, a.PublicKey.Span, DhxcpRole.Source);

        Assert.NotEqual(aKeys.WriteKey.ToArray(), bKeys.ReadKey.ToArray());
    }

    [Fact]
    public void Low_order_peer_key_is_rejected()
    {
        Assert.Throws<CryptographicException>(() => DhxcpKeys.Derive(FixedSource(), new byte[32], DhxcpRole.Source));
    }

    [Fact]
    public void Wrong_length_peer_key_is_rejected()
    {
        Assert.Throws<CryptographicException>(() => DhxcpKeys.Derive(FixedSource(), new byte[31], DhxcpRole.Source));
    }
}
