using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Recovery;
using Connet.Quic.Core.Streams;

namespace Connet.Quic.Core.Connection;

/// <summary>
/// Per packet-number space state (RFC 9000 §12.3): packet numbers, what we received, the CRYPTO stream in each
/// direction and the keys. 1-RTT key phases live in <see cref="OneRttKeys"/>; this holds Initial and Handshake keys.
/// </summary>
internal sealed class PacketSpace : IDisposable
{
    /// <summary>Bound on CRYPTO data buffered ahead of what TLS consumed (RFC 9000 §7.5: at least 4096).</summary>
    public const int MaxCryptoBuffer = 256 * 1024;

    public PacketSpace(EncryptionLevel level)
    {
        Level = level;
        Received = new ReceivedPacketTracker();
        CryptoSend = new SendBuffer(MaxCryptoBuffer);
        CryptoReceive = new ReceiveBuffer(TransportErrorCode.CryptoBufferExceeded);
    }

    public EncryptionLevel Level { get; }

    public ulong NextPacketNumber { get; set; }

    public ReceivedPacketTracker Received { get; }

    public SendBuffer CryptoSend { get; }

    public ReceiveBuffer CryptoReceive { get; }

    public IPacketKey? SendPacketKey { get; private set; }

    public IHeaderKey? SendHeaderKey { get; private set; }

    public IPacketKey? ReceivePacketKey { get; private set; }

    public IHeaderKey? ReceiveHeaderKey { get; private set; }

    public bool HasSendKeys => SendPacketKey is not null;

    public bool HasReceiveKeys => ReceivePacketKey is not null;

    /// <summary>Keys were discarded (RFC 9001 §4.9): nothing is sent or accepted in this space any more.</summary>
    public bool IsDiscarded { get; private set; }

    /// <summary>A PING must go out in this space (PTO probe with nothing to retransmit).</summary>
    public int ProbesPending { get; set; }

    public void InstallKeys(CipherSuite suite, ReadOnlySpan<byte> sendSecret, ReadOnlySpan<byte> receiveSecret)
    {
        DisposeKeys();
        SendPacketKey = QuicKeys.CreatePacketKey(suite, sendSecret);
        SendHeaderKey = QuicKeys.CreateHeaderKey(suite, sendSecret);
        ReceivePacketKey = QuicKeys.CreatePacketKey(suite, receiveSecret);
        ReceiveHeaderKey = QuicKeys.CreateHeaderKey(suite, receiveSecret);
    }

    public void Discard()
    {
        IsDiscarded = true;
        ProbesPending = 0;
        DisposeKeys();
    }

    public void Dispose() => DisposeKeys();

    private void DisposeKeys()
    {
        SendPacketKey?.Dispose();
        SendHeaderKey?.Dispose();
        ReceivePacketKey?.Dispose();
        ReceiveHeaderKey?.Dispose();
        SendPacketKey = null;
        SendHeaderKey = null;
        ReceivePacketKey = null;
        ReceiveHeaderKey = null;
    }
}
