using System.Security.Cryptography;

namespace Connet.Quic.Core.Tls;

/// <summary>
/// The running handshake transcript hash (RFC 8446 §4.4.1). Until the cipher suite (and so the hash) is known, the
/// client's messages are kept raw; HelloRetryRequest replaces ClientHello1 with a synthetic message_hash message.
/// </summary>
internal sealed class TlsTranscript : IDisposable
{
    private List<byte[]>? _pending = [];
    private IncrementalHash? _hash;

    public bool HasHash => _hash is not null;

    public void Append(ReadOnlySpan<byte> message)
    {
        if (_hash is not null)
        {
            _hash.AppendData(message);
        }
        else
        {
            _pending!.Add(message.ToArray());
        }
    }

    /// <summary>Fixes the hash function (once the cipher suite is chosen) and hashes what was buffered so far.</summary>
    public void StartHash(HashAlgorithmName hash)
    {
        if (_hash is not null)
        {
            return;
        }

        _hash = IncrementalHash.CreateHash(hash);
        foreach (byte[] message in _pending!)
        {
            _hash.AppendData(message);
        }

        _pending = null;
    }

    public byte[] CurrentHash() => (_hash ?? throw new InvalidOperationException("Transcript hash not started.")).GetCurrentHash();

    /// <summary>Replaces everything so far (ClientHello1) with message_hash: 254 || uint24 Hash.length || Hash(ClientHello1).</summary>
    public void ReplaceWithMessageHash()
    {
        IncrementalHash hash = _hash ?? throw new InvalidOperationException("Transcript hash not started.");
        byte[] digest = hash.GetHashAndReset();
        hash.AppendData([(byte)TlsHandshakeType.MessageHash, 0, 0, (byte)digest.Length]);
        hash.AppendData(digest);
    }

    public void Dispose() => _hash?.Dispose();
}
