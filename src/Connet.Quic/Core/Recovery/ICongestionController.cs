namespace Connet.Quic.Core.Recovery;

/// <summary>
/// A congestion controller (RFC 9002 §7). <see cref="LossDetection"/> feeds it every sent, acknowledged, lost and
/// discarded packet; the connection only asks <see cref="CanSend"/> and reports application-limited periods.
/// </summary>
internal interface ICongestionController
{
    long CongestionWindow { get; }

    long BytesInFlight { get; }

    /// <summary>
    /// Set while the sender has less to send than the window allows, so acknowledgements must not grow the window
    /// (RFC 9002 §7.8).
    /// </summary>
    bool IsApplicationLimited { get; set; }

    /// <summary>True when <paramref name="bytes"/> more fit in the window. Probes bypass this; the connection decides.</summary>
    bool CanSend(int bytes);

    void OnPacketSent(Instant now, int bytes);

    void OnPacketAcked(SentPacket packet, Instant now, RttEstimator rtt);

    /// <summary>The in-flight packets among <paramref name="lost"/> leave bytes in flight and start a congestion event.</summary>
    void OnPacketsLost(ReadOnlySpan<SentPacket> lost, Instant now, bool persistentCongestion);

    /// <summary>A packet whose keys were discarded leaves bytes in flight without a loss signal.</summary>
    void OnPacketDiscarded(int bytes);

    void SetMaxDatagramSize(int size);
}
