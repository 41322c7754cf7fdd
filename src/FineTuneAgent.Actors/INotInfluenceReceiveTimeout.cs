namespace FineTuneAgent.Actors;

/// <summary>Marks messages whose arrival does not restart the receive timeout (ticks, for example).</summary>
public interface INotInfluenceReceiveTimeout;
