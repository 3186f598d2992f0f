namespace Connet.Quic;

/// <summary>The kind of a QUIC stream.</summary>
public enum QuicStreamType
{
    /// <summary>Data flows only from the stream's initiator to its peer.</summary>
    Unidirectional,

    /// <summary>Data flows both ways.</summary>
    Bidirectional,
}
