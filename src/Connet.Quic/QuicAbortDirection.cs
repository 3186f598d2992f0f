namespace Connet.Quic;

/// <summary>Which side(s) of a stream <see cref="QuicStream.Abort"/> abandons.</summary>
[Flags]
public enum QuicAbortDirection
{
    /// <summary>Stop receiving (STOP_SENDING).</summary>
    Read = 1,

    /// <summary>Stop sending (RESET_STREAM).</summary>
    Write = 2,

    /// <summary>Both directions.</summary>
    Both = Read | Write,
}
