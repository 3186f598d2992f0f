using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Frames;
using Connet.Quic.Core.Recovery;

namespace Connet.Quic.Core.Connection;

/// <summary>
/// A minimal datagram packetization layer PMTU discovery (RFC 9000 §14.3): once the handshake is confirmed, one
/// padded probe at the larger size; if it is acknowledged, the path carries it and we send at that size.
/// A lost probe leaves us at 1200 bytes, which every QUIC path must carry.
/// </summary>
internal sealed partial class Connection
{
    /// <summary>Marks a PING that is a PMTU probe in <see cref="SentFrame.Value"/>.</summary>
    private const ulong MtuProbeMarker = 1;

    private MtuProbeState _mtuProbe;

    internal int MaxDatagramSize => _maxDatagramSize;

    private int MtuProbeSize => (int)Math.Min((ulong)_options.MaxUdpPayloadSize, _peerParameters?.MaxUdpPayloadSize ?? MinimumDatagramSize);

    private bool MtuProbeDue => _mtuProbe == MtuProbeState.NotStarted && _handshakeConfirmed && _path.Validated && MtuProbeSize > _maxDatagramSize;

    private int WriteMtuProbe(Instant now, Span<byte> buffer)
    {
        _mtuProbe = MtuProbeState.InFlight;
        int size = Math.Min(buffer.Length, MtuProbeSize);
        return WriteSingleFramePacket(now, EncryptionLevel.OneRtt, buffer[..size], 0, static (ref SpanWriter w) => new PingFrame().Encode(ref w), size, MtuProbeMarker);
    }

    private void OnMtuProbeAcknowledged(int size)
    {
        _mtuProbe = MtuProbeState.Done;
        _maxDatagramSize = size;
        _congestion.SetMaxDatagramSize(size);
        _pacer.SetMaxDatagramSize(size);
    }

    private void OnMtuProbeLost() => _mtuProbe = MtuProbeState.Done;

    private static bool IsMtuProbe(SentPacket record) =>
        record.Frames.Count > 0 && record.Frames[0] is { Kind: SentFrameKind.Ping, Value: MtuProbeMarker };

    private enum MtuProbeState
    {
        NotStarted,
        InFlight,
        Done,
    }
}
