using Connet.Quic.Core.Crypto;

namespace Connet.Quic.Core.Connection;

/// <summary>
/// 1-RTT keys across key updates (RFC 9001 §6). Sending and receiving phases move separately: we flip our send
/// phase when we initiate, and our receive phase when a packet in the next phase authenticates. The previous
/// receive key is kept a while for reordered packets; header protection keys never change.
/// </summary>
internal sealed class OneRttKeys : IDisposable
{
    private readonly CipherSuite _suite;
    private byte[] _sendSecret;
    private byte[] _receiveSecret;
    private IPacketKey? _nextReceiveKey;

    public OneRttKeys(CipherSuite suite, byte[] sendSecret, byte[] receiveSecret)
    {
        _suite = suite;
        _sendSecret = sendSecret;
        _receiveSecret = receiveSecret;
        SendKey = QuicKeys.CreatePacketKey(suite, sendSecret);
        ReceiveKey = QuicKeys.CreatePacketKey(suite, receiveSecret);
        SendHeaderKey = QuicKeys.CreateHeaderKey(suite, sendSecret);
        ReceiveHeaderKey = QuicKeys.CreateHeaderKey(suite, receiveSecret);
    }

    public IPacketKey SendKey { get; private set; }

    public IPacketKey ReceiveKey { get; private set; }

    public IHeaderKey SendHeaderKey { get; }

    public IHeaderKey ReceiveHeaderKey { get; }

    /// <summary>The key of the previous receive phase, until <see cref="PreviousReceiveKeyDiscardTime"/>.</summary>
    public IPacketKey? PreviousReceiveKey { get; private set; }

    public Instant PreviousReceiveKeyDiscardTime { get; private set; } = Instant.Never;

    public bool SendPhase { get; private set; }

    public bool ReceivePhase { get; private set; }

    /// <summary>Packets sealed with the current send key (for the confidentiality limit and our update schedule).</summary>
    public long PacketsSentWithKey { get; set; }

    /// <summary>First packet number we sent in the current send phase; an ACK at or above it confirms the update.</summary>
    public ulong FirstPacketNumberInSendPhase { get; private set; }

    /// <summary>The peer acknowledged a packet of our current send phase: another update may start (RFC 9001 §6.1).</summary>
    public bool SendPhaseConfirmed { get; set; } = true;

    /// <summary>Smallest packet number received in the current receive phase; older packets in the other phase use the previous key.</summary>
    public ulong? FirstPacketNumberInReceivePhase { get; private set; }

    public IPacketKey NextReceiveKey => _nextReceiveKey ??= QuicKeys.CreatePacketKey(_suite, NextReceiveSecret());

    /// <summary>Starts a key update (or answers the peer's): the next packet we send uses the next phase.</summary>
    public void UpdateSendKey(ulong nextPacketNumber)
    {
        byte[] next = QuicKeys.NextGenerationSecret(_suite, _sendSecret);
        CryptographicZero(_sendSecret);
        _sendSecret = next;
        SendKey.Dispose();
        SendKey = QuicKeys.CreatePacketKey(_suite, _sendSecret);
        SendPhase = !SendPhase;
        PacketsSentWithKey = 0;
        FirstPacketNumberInSendPhase = nextPacketNumber;
        SendPhaseConfirmed = false;
    }

    /// <summary>A packet in the next phase authenticated with <see cref="NextReceiveKey"/>: make it current.</summary>
    public void AdvanceReceivePhase(ulong packetNumber, Instant discardPreviousAt)
    {
        IPacketKey next = NextReceiveKey;
        byte[] nextSecret = NextReceiveSecret();
        CryptographicZero(_receiveSecret);
        _receiveSecret = nextSecret;
        PreviousReceiveKey?.Dispose();
        PreviousReceiveKey = ReceiveKey;
        PreviousReceiveKeyDiscardTime = discardPreviousAt;
        ReceiveKey = next;
        _nextReceiveKey = null;
        ReceivePhase = !ReceivePhase;
        FirstPacketNumberInReceivePhase = packetNumber;
    }

    public void NoteReceived(ulong packetNumber)
    {
        if (FirstPacketNumberInReceivePhase is null || packetNumber < FirstPacketNumberInReceivePhase)
        {
            FirstPacketNumberInReceivePhase = packetNumber;
        }
    }

    public void DiscardPreviousReceiveKey()
    {
        PreviousReceiveKey?.Dispose();
        PreviousReceiveKey = null;
        PreviousReceiveKeyDiscardTime = Instant.Never;
    }

    public void Dispose()
    {
        SendKey.Dispose();
        ReceiveKey.Dispose();
        SendHeaderKey.Dispose();
        ReceiveHeaderKey.Dispose();
        PreviousReceiveKey?.Dispose();
        _nextReceiveKey?.Dispose();
        CryptographicZero(_sendSecret);
        CryptographicZero(_receiveSecret);
    }

    private byte[] NextReceiveSecret() => QuicKeys.NextGenerationSecret(_suite, _receiveSecret);

    private static void CryptographicZero(byte[] secret) => System.Security.Cryptography.CryptographicOperations.ZeroMemory(secret);
}
