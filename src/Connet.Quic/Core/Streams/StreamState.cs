namespace Connet.Quic.Core.Streams;

/// <summary>Where the sending half of a stream is (RFC 9000 §3.1), collapsed to what the manager acts on.</summary>
internal enum SendHalfState
{
    /// <summary>Ready, Send or Data Sent: data may still be written, sent or retransmitted.</summary>
    Sending,

    /// <summary>Everything including FIN was acknowledged (Data Recvd): terminal.</summary>
    AllAcknowledged,

    /// <summary>RESET_STREAM queued or in flight (Reset Sent).</summary>
    ResetSent,

    /// <summary>RESET_STREAM was acknowledged (Reset Recvd): terminal.</summary>
    ResetAcknowledged,
}

/// <summary>Where the receiving half of a stream is (RFC 9000 §3.2), from the application's point of view.</summary>
internal enum ReceiveHalfState
{
    /// <summary>Recv, Size Known or Data Recvd: the application reads.</summary>
    Receiving,

    /// <summary>The application read everything up to the final size (Data Read): terminal.</summary>
    AllRead,

    /// <summary>The application asked the peer to stop (STOP_SENDING); data is discarded until the final size is known.</summary>
    Stopped,

    /// <summary>The peer reset the stream (Reset Recvd / Reset Read): terminal.</summary>
    ResetReceived,
}

/// <summary>Everything the manager tracks about one stream. Owned and mutated by <see cref="StreamManager"/> only.</summary>
internal sealed class StreamState
{
    public StreamState(ulong id, bool isLocal, SendBuffer? send, ReceiveBuffer? receive)
    {
        Id = id;
        IsLocal = isLocal;
        Send = send;
        Receive = receive;
        SendQueueNode = new LinkedListNode<StreamState>(this);
    }

    public ulong Id { get; }

    public bool IsLocal { get; }

    public bool IsBidirectional => StreamIds.IsBidirectional(Id);

    /// <summary>The application released the stream; it is freed once both halves are terminal.</summary>
    public bool IsReleased { get; set; }

    // ---- sending half (Send is null for a peer's unidirectional stream) ----
    public SendBuffer? Send { get; }

    public SendHalfState SendState { get; set; }

    /// <summary>The peer's MAX_STREAM_DATA for this stream.</summary>
    public ulong SendLimit { get; set; }

    /// <summary>A write was cut short; report StreamWritable once room or credit appears.</summary>
    public bool IsWriteBlocked { get; set; }

    /// <summary>The SendLimit a STREAM_DATA_BLOCKED was queued for, so each limit is reported once.</summary>
    public ulong? BlockedReportedAt { get; set; }

    public ulong ResetErrorCode { get; set; }

    public ulong ResetFinalSize { get; set; }

    public bool IsResetQueued { get; set; }

    /// <summary>Membership in the manager's round-robin list of streams that may have something to send.</summary>
    public LinkedListNode<StreamState> SendQueueNode { get; }

    public bool IsSendTerminal => Send is null || SendState is SendHalfState.AllAcknowledged or SendHalfState.ResetAcknowledged;

    // ---- receiving half (Receive is null for our own unidirectional stream) ----
    public ReceiveBuffer? Receive { get; }

    public ReceiveHalfState ReceiveState { get; set; }

    /// <summary>The MAX_STREAM_DATA we advertised (the initial window until the first update).</summary>
    public ulong ReceiveLimit { get; set; }

    public ulong ReceiveWindow { get; set; }

    public bool IsMaxStreamDataQueued { get; set; }

    public bool IsReadablePending { get; set; }

    public ulong StopErrorCode { get; set; }

    public bool IsStopSendingQueued { get; set; }

    /// <summary>This stream's share of the connection's received bytes (highest offset or final size, §4.5).</summary>
    public ulong ConnectionReceived { get; set; }

    /// <summary>This stream's share of the connection's consumed bytes (read, or discarded after reset/stop).</summary>
    public ulong ConnectionConsumed { get; set; }

    public bool IsReceiveTerminal => Receive is null
        || Receive.IsComplete
        || ReceiveState is ReceiveHalfState.AllRead or ReceiveHalfState.ResetReceived
        || (ReceiveState == ReceiveHalfState.Stopped && Receive.FinalSize.HasValue);
}
