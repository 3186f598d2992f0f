using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Connet.Core.Crypto;

/// <summary>A verified dhxcp key_time: the peer's ephemeral X25519 public key and when it was made.</summary>
public sealed record DhxcpPeerKey(ReadOnlyMemory<byte> PublicKey, DateTimeOffset Timestamp);

/// <summary>
/// The signed key material of dhxcp (connet-protocol.md §2.6): <c>key_time</c> = X25519 public key (32) ‖ UnixNano
/// timestamp as big-endian uint64 (8), and a signature over key_time made with the sender's server-certificate key.
/// </summary>
/// <remarks>
/// Go connet's certificates are Ed25519, so it signs with Ed25519. Ours are ECDSA P-256 (see
/// <see cref="Certificates.PeerCertificates"/>), so we sign with the server certificate's ECDSA key: ECDSA P-256 over
/// SHA-256, IEEE P1363 encoding (r ‖ s, 64 bytes). The verifier uses the public key of the server certificate the
/// peer announced, which binds the ephemeral key to that peer as Go's scheme does; only the algorithm differs.
/// </remarks>
public static class DhxcpKeyMaterial
{
    public const int KeyTimeLength = DhxcpKeyPair.KeyLength + sizeof(ulong);
    public const int SignatureLength = 64;

    private const int SigningKeySize = 256;

    /// <summary>How far the peer's timestamp may be from our clock, in either direction (inclusive).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>Builds key_time from an X25519 public key and a timestamp (nanosecond resolution is 100 ns here).</summary>
    public static byte[] CreateKeyTime(ReadOnlySpan<byte> publicKey, DateTimeOffset timestamp)
    {
        if (publicKey.Length != DhxcpKeyPair.KeyLength)
        {
            throw new ArgumentException($"An X25519 public key is {DhxcpKeyPair.KeyLength} bytes, not {publicKey.Length}.", nameof(publicKey));
        }

        if (timestamp < DateTimeOffset.UnixEpoch)
        {
            throw new ArgumentOutOfRangeException(nameof(timestamp), timestamp, "dhxcp timestamps start at the Unix epoch.");
        }

        var keyTime = new byte[KeyTimeLength];
        publicKey.CopyTo(keyTime);
        BinaryPrimitives.WriteUInt64BigEndian(keyTime.AsSpan(DhxcpKeyPair.KeyLength), ToUnixNanoseconds(timestamp));
        return keyTime;
    }

    /// <summary>Builds key_time for <paramref name="keyPair"/> stamped with <paramref name="timeProvider"/>'s current time.</summary>
    public static byte[] CreateKeyTime(DhxcpKeyPair keyPair, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(keyPair);
        ArgumentNullException.ThrowIfNull(timeProvider);
        return CreateKeyTime(keyPair.PublicKey.Span, timeProvider.GetUtcNow());
    }

    /// <summary>Signs <paramref name="keyTime"/> with our server certificate's private key (ECDSA P-256, SHA-256, P1363).</summary>
    public static byte[] Sign(ReadOnlySpan<byte> keyTime, ECDsa signingKey)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        if (keyTime.Length != KeyTimeLength)
        {
            throw new ArgumentException($"dhxcp key_time is {KeyTimeLength} bytes, not {keyTime.Length}.", nameof(keyTime));
        }

        if (signingKey.KeySize != SigningKeySize)
        {
            throw new ArgumentException($"dhxcp signs with an ECDSA P-256 key, not a {signingKey.KeySize}-bit one.", nameof(signingKey));
        }

        return signingKey.SignData(keyTime, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>
    /// Checks the length, the signature (with the public key of the peer's announced server certificate) and the
    /// timestamp window of a peer's key_time, and returns its X25519 public key.
    /// </summary>
    /// <exception cref="CryptographicException">Wrong length, bad signature, or a timestamp more than <see cref="MaxClockSkew"/> away.</exception>
    public static DhxcpPeerKey Verify(
        ReadOnlySpan<byte> keyTime,
        ReadOnlySpan<byte> signature,
        ECDsa verificationKey,
        TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(verificationKey);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (keyTime.Length != KeyTimeLength)
        {
            throw new CryptographicException($"dhxcp: key_time must be {KeyTimeLength} bytes, got {keyTime.Length}.");
        }

        if (signature.Length != SignatureLength)
        {
            throw new CryptographicException($"dhxcp: an ECDSA P-256 signature must be {SignatureLength} bytes, got {signature.Length}.");
        }

        if (verificationKey.KeySize != SigningKeySize
            || !verificationKey.VerifyData(keyTime, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            throw new CryptographicException("dhxcp: the key_time signature does not verify with the peer's key.");
        }

        // Compare in nanoseconds so a timestamp just past the window is rejected even below our 100 ns tick.
        var peerNanoseconds = BinaryPrimitives.ReadUInt64BigEndian(keyTime[DhxcpKeyPair.KeyLength..]);
        var now = timeProvider.GetUtcNow();
        var skewNanoseconds = (Int128)peerNanoseconds - ToUnixNanoseconds(now);
        var maxSkewNanoseconds = (Int128)MaxClockSkew.Ticks * (ulong)NanosecondsPerTick;
        if (Int128.Abs(skewNanoseconds) > maxSkewNanoseconds)
        {
            var skew = TimeSpan.FromTicks((long)Int128.Clamp(skewNanoseconds / NanosecondsPerTick, long.MinValue, long.MaxValue));
            var direction = skewNanoseconds > 0 ? "ahead of" : "behind";
            throw new CryptographicException(
                $"dhxcp: the peer's key_time is {skew.Duration()} {direction} our clock, outside the allowed ±{MaxClockSkew}.");
        }

        var timestamp = DateTimeOffset.UnixEpoch.AddTicks((long)(peerNanoseconds / NanosecondsPerTick));
        return new DhxcpPeerKey(keyTime[..DhxcpKeyPair.KeyLength].ToArray(), timestamp);
    }

    private const long NanosecondsPerTick = 100;

    private static ulong ToUnixNanoseconds(DateTimeOffset timestamp)
        => (ulong)(timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * (ulong)NanosecondsPerTick;
}
