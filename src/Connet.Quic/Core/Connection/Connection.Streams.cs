namespace Connet.Quic.Core.Connection;

/// <summary>The application's view of streams; all state lives in the stream manager.</summary>
internal sealed partial class Connection
{
    /// <summary>Opens a locally initiated stream; false when the peer's stream limit is reached (wait for StreamsAvailable).</summary>
    public bool TryOpenStream(bool bidirectional, out long streamId)
    {
        streamId = -1;
        if (!IsHandshakeComplete || IsClosing || !_streams.TryOpen(bidirectional, out ulong id))
        {
            return false;
        }

        streamId = (long)id;
        return true;
    }

    /// <summary>Queues data (and optionally FIN) on a stream; returns the bytes accepted, 0 when the send buffer is full.</summary>
    public int WriteStream(long streamId, ReadOnlySpan<byte> data, bool fin) =>
        IsClosing ? 0 : _streams.Write((ulong)streamId, data, fin);

    /// <summary>Reads received data in order; 0 with <paramref name="fin"/> false means none yet (wait for StreamReadable).</summary>
    public int ReadStream(long streamId, Span<byte> buffer, out bool fin) => _streams.Read((ulong)streamId, buffer, out fin);

    /// <summary>Abandons sending on a stream with RESET_STREAM.</summary>
    public void ResetStream(long streamId, ulong errorCode)
    {
        if (!IsClosing)
        {
            _streams.ResetSend((ulong)streamId, errorCode);
        }
    }

    /// <summary>Abandons receiving on a stream with STOP_SENDING.</summary>
    public void StopSending(long streamId, ulong errorCode)
    {
        if (!IsClosing)
        {
            _streams.StopReceiving((ulong)streamId, errorCode);
        }
    }

    /// <summary>The application is done with a stream: its state may be freed once both directions have ended.</summary>
    public void ReleaseStream(long streamId) => _streams.Release((ulong)streamId);
}
