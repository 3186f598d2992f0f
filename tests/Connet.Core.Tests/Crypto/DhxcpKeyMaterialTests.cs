using System.Buffers.Binary;
using System.Security.Cryptography;
using Connet.Core.Crypto;
using System.Security.Cryptography.X509Certificates;
using Connet.Core.Certificates;

namespace Connet.Core.Tests.Crypto;

public sealed class DhxcpKeyMaterialTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 6, 27, 12, 0, 0, TimeSpan.Zero);

    // Signed and verified the way peers do it: with the server certificate's private key, checked against the
    // public key of the same certificate as the peer announced it (DER only, no private key).
    private readonly PeerCertificates _certificates = PeerCertificates.Create();
    private readonly ECDsa _signingKey;
    private readonly ECDsa _verificationKey;

    public DhxcpKeyMaterialTests()
    {
        _signingKey = _certificates.Server.GetECDsaPrivateKey()!;
        using var announced = X509CertificateLoader.LoadCertificate(_certificates.Server.RawData);
        _verificationKey = announced.GetECDsaPublicKey()!;
    }

    private ECDsa VerificationKey => _verificationKey;

    public void Dispose()
    {
        _signingKey.Dispose();
        _verificationKey.Dispose();
        _certificates.Dispose();
    }

    [Fact]
    public void Signature_is_64_bytes_of_ieee_p1363()
    {
        var keyTime = DhxcpKeyMaterial.CreateKeyTime(DhxcpKeyPair.Generate(), new FixedTimeProvider(Now));

        var signature = DhxcpKeyMaterial.Sign(keyTime, _signingKey);

        Assert.Equal(DhxcpKeyMaterial.SignatureLength, signature.Length);
        Assert.True(_verificationKey.VerifyData(keyTime, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public void Signing_with_a_non_p256_key_is_refused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var keyTime = DhxcpKeyMaterial.CreateKeyTime(DhxcpKeyPair.Generate(), new FixedTimeProvider(Now));

        Assert.Throws<ArgumentException>(() => DhxcpKeyMaterial.Sign(keyTime, p384));
    }

    [Fact]
    public void KeyTime_is_public_key_then_big_endian_unix_nanoseconds()
    {
        var keyPair = DhxcpKeyPair.Generate();
        var timestamp = DateTimeOffset.UnixEpoch.AddSeconds(1).AddTicks(1);

        var keyTime = DhxcpKeyMaterial.CreateKeyTime(keyPair.PublicKey.Span, timestamp);

        Assert.Equal(40, keyTime.Length);
        Assert.Equal(keyPair.PublicKey.ToArray(), keyTime[..32]);
        Assert.Equal(1_000_000_100UL, BinaryPrimitives.ReadUInt64BigEndian(keyTime.AsSpan(32)));
    }

    [Fact]
    public void Signed_key_time_round_trips_to_the_public_key_and_timestamp()
    {
        var keyPair = DhxcpKeyPair.Generate();
        var clock = new FixedTimeProvider(Now);
        var keyTime = DhxcpKeyMaterial.CreateKeyTime(keyPair, clock);
        var signature = DhxcpKeyMaterial.Sign(keyTime, _signingKey);

        var peer = DhxcpKeyMaterial.Verify(keyTime, signature, VerificationKey, clock);

        Assert.Equal(keyPair.PublicKey.ToArray(), peer.PublicKey.ToArray());
        Assert.Equal(Now, peer.Timestamp);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(39)]
    public void Tampered_key_time_fails_the_signature(int flippedByte)
    {
        var clock = new FixedTimeProvider(Now);
        var keyTime = DhxcpKeyMaterial.CreateKeyTime(DhxcpKeyPair.Generate(), clock);
        var signature = DhxcpKeyMaterial.Sign(keyTime, _signingKey);
        keyTime[flippedByte] ^= 0x01;

        var error = Assert.Throws<CryptographicException>(() => DhxcpKeyMaterial.Verify(keyTime, signature, VerificationKey, clock));
        Assert.Contains("signature", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Signature_from_another_key_is_rejected()
    {
        var clock = new FixedTimeProvider(Now);
        var keyTime = DhxcpKeyMaterial.CreateKeyTime(DhxcpKeyPair.Generate(), clock);
        using var otherCertificates = PeerCertificates.Create();
        using var otherKey = otherCertificates.Server.GetECDsaPrivateKey()!;
        var signature = DhxcpKeyMaterial.Sign(keyTime, otherKey);

        Assert.Throws<CryptographicException>(() => DhxcpKeyMaterial.Verify(keyTime, signature, VerificationKey, clock));
    }

    [Theory]
    [InlineData(39, 64)]
    [InlineData(41, 64)]
    [InlineData(40, 63)]
    [InlineData(40, 0)]
    public void Wrong_lengths_are_named(int keyTimeLength, int signatureLength)
    {
        var error = Assert.Throws<CryptographicException>(() => DhxcpKeyMaterial.Verify(
            new byte[keyTimeLength], new byte[signatureLength], VerificationKey, new FixedTimeProvider(Now)));
        Assert.Contains("bytes, got", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-5 * 60, true)]
    [InlineData(5 * 60, true)]
    [InlineData(0, true)]
    [InlineData(-5 * 60 - 1, false)]
    [InlineData(5 * 60 + 1, false)]
    [InlineData(-3600, false)]
    public void Timestamp_must_be_within_five_minutes_either_way(int peerOffsetSeconds, bool accepted)
    {
        var keyTime = DhxcpKeyMaterial.CreateKeyTime(DhxcpKeyPair.Generate().PublicKey.Span, Now.AddSeconds(peerOffsetSeconds));
        var signature = DhxcpKeyMaterial.Sign(keyTime, _signingKey);
        var clock = new FixedTimeProvider(Now);

        if (accepted)
        {
            Assert.Equal(Now.AddSeconds(peerOffsetSeconds), DhxcpKeyMaterial.Verify(keyTime, signature, VerificationKey, clock).Timestamp);
        }
        else
        {
            var error = Assert.Throws<CryptographicException>(() => DhxcpKeyMaterial.Verify(keyTime, signature, VerificationKey, clock));
            var skew = TimeSpan.FromSeconds(Math.Abs(peerOffsetSeconds));
            Assert.Contains(skew.ToString(), error.Message, StringComparison.Ordinal);
            Assert.Contains(peerOffsetSeconds > 0 ? "ahead of" : "behind", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void One_nanosecond_past_the_window_is_rejected()
    {
        var keyTime = DhxcpKeyMaterial.CreateKeyTime(DhxcpKeyPair.Generate().PublicKey.Span, Now.AddMinutes(5));
        var nanoseconds = BinaryPrimitives.ReadUInt64BigEndian(keyTime.AsSpan(32));
        BinaryPrimitives.WriteUInt64BigEndian(keyTime.AsSpan(32), nanoseconds + 1);
        var signature = DhxcpKeyMaterial.Sign(keyTime, _signingKey);

        Assert.Throws<CryptographicException>(() => DhxcpKeyMaterial.Verify(keyTime, signature, VerificationKey, new FixedTimeProvider(Now)));
    }

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
