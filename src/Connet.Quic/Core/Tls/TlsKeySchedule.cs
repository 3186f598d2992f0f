using System.Security.Cryptography;
using Connet.Quic.Core.Crypto;

namespace Connet.Quic.Core.Tls;

/// <summary>
/// The TLS 1.3 key schedule without PSK (RFC 8446 §7.1): early secret from zeros, handshake secret from the (EC)DHE
/// shared secret, master secret, and the four traffic secrets QUIC needs. Finished keys and verify_data too.
/// </summary>
internal sealed class TlsKeySchedule : IDisposable
{
    private readonly HashAlgorithmName _hash;
    private readonly int _hashLength;
    private byte[] _handshakeSecret = [];
    private byte[] _masterSecret = [];

    public TlsKeySchedule(CipherSuite suite)
    {
        CipherSuite = suite;
        _hash = suite.HashAlgorithm();
        _hashLength = suite.HashLength();
    }

    public CipherSuite CipherSuite { get; }

    public byte[] ClientHandshakeTrafficSecret { get; private set; } = [];

    public byte[] ServerHandshakeTrafficSecret { get; private set; } = [];

    public byte[] ClientApplicationTrafficSecret { get; private set; } = [];

    public byte[] ServerApplicationTrafficSecret { get; private set; } = [];

    /// <summary>Derives the handshake traffic secrets; <paramref name="helloHash"/> = Hash(ClientHello..ServerHello).</summary>
    public void DeriveHandshakeSecrets(ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> helloHash)
    {
        byte[] zeros = new byte[_hashLength];
        byte[] earlySecret = HKDF.Extract(_hash, zeros, zeros);
        byte[] derived = DeriveSecret(earlySecret, "derived", EmptyHash());
        _handshakeSecret = HKDF.Extract(_hash, sharedSecret.ToArray(), derived);
        ClientHandshakeTrafficSecret = DeriveSecret(_handshakeSecret, "c hs traffic", helloHash);
        ServerHandshakeTrafficSecret = DeriveSecret(_handshakeSecret, "s hs traffic", helloHash);
        byte[] derivedForMaster = DeriveSecret(_handshakeSecret, "derived", EmptyHash());
        _masterSecret = HKDF.Extract(_hash, zeros, derivedForMaster);
        CryptographicOperations.ZeroMemory(earlySecret);
    }

    /// <summary>Derives the application traffic secrets; <paramref name="handshakeHash"/> = Hash(ClientHello..server Finished).</summary>
    public void DeriveApplicationSecrets(ReadOnlySpan<byte> handshakeHash)
    {
        ClientApplicationTrafficSecret = DeriveSecret(_masterSecret, "c ap traffic", handshakeHash);
        ServerApplicationTrafficSecret = DeriveSecret(_masterSecret, "s ap traffic", handshakeHash);
    }

    /// <summary>verify_data = HMAC(finished_key, transcript hash), finished_key from the sender's handshake traffic secret.</summary>
    public byte[] ComputeFinished(ReadOnlySpan<byte> baseKey, ReadOnlySpan<byte> transcriptHash)
    {
        byte[] finishedKey = HkdfLabel.Expand(_hash, baseKey, "finished", [], _hashLength);
        byte[] verifyData = CryptographicOperations.HmacData(_hash, finishedKey, transcriptHash);
        CryptographicOperations.ZeroMemory(finishedKey);
        return verifyData;
    }

    public bool VerifyFinished(ReadOnlySpan<byte> baseKey, ReadOnlySpan<byte> transcriptHash, ReadOnlySpan<byte> received)
    {
        byte[] expected = ComputeFinished(baseKey, transcriptHash);
        return received.Length == expected.Length && CryptographicOperations.FixedTimeEquals(expected, received);
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_handshakeSecret);
        CryptographicOperations.ZeroMemory(_masterSecret);
    }

    private byte[] DeriveSecret(ReadOnlySpan<byte> secret, string label, ReadOnlySpan<byte> transcriptHash) =>
        HkdfLabel.Expand(_hash, secret, label, transcriptHash, _hashLength);

    private byte[] EmptyHash() => CryptographicOperations.HashData(_hash, ReadOnlySpan<byte>.Empty);
}
