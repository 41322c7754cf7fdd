namespace FineTuneAgent.Actors;

/// <summary>A behaviour: handles a message and says whether it did (false makes it unhandled).</summary>
public delegate bool Receive(object message);
